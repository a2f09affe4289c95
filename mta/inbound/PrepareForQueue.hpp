// PrepareForQueue: the one acceptance path from an accepted message to its queue record, shared by
// the SMTP server and local submission (sendmail's direct enqueue, the maildrop import).
// Contract: pure apart from the DKIM signer (libcrypto; safe on a worker thread); the body already
// starts with this hop's Received field; a signing failure is an error of kind Security.
#pragma once

#include <string>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/Result.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::inbound {

// What signing did, for the acceptance log line.
struct SignReport {
  std::string domain;   // d= when signed; empty when not
  std::string skipped;  // why the signer did not sign ("no From: header field", ...)
};

// Signs `body` (this hop's Received field first) and inserts the DKIM-Signature field(s) above it.
// A null or empty signer leaves the body as it is.
Result<SignReport> sign_for_queue(std::string& body, const dkim::DkimSigner* signer, TimeMs now);

// The queue record: the envelope's size is the body's, arrival defaults to `now`, the message is
// due at once.
queue::NewMessage to_queue_record(QueueId id, Envelope envelope, std::string body, TimeMs now);

// Both steps, for callers that sign on their own thread (local submission).
Result<queue::NewMessage> prepare_for_queue(QueueId id, Envelope envelope, std::string body,
                                            const dkim::DkimSigner* signer, TimeMs now);

}  // namespace ferry::inbound
