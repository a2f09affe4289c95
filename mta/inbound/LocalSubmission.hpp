// LocalSubmission: a message a local user handed to sendmail, turned into the queue record the
// SMTP server would have made (recipient rules and aliases, the Received trace naming the user,
// DKIM, size limit). Shared by sendmail's direct enqueue and the daemon's maildrop import.
// Contract: pure apart from the DKIM signer; errors are values whose kind says whose fault:
// Invalid (the message or sender: sysexits 65), NotFound (a recipient refused: 67),
// Security (DKIM signing failed: 75, never queued unsigned).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/smtp/ReceivedHeader.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::inbound {

struct LocalSubmission {
  std::string sender;                   // "" = <>
  std::vector<std::string> recipients;  // qualified addresses
  std::string message;                  // CRLF line ends, header completed (no Received yet)
  int notify = kNotifyUnspecified;
  DsnRet ret = DsnRet::Unspecified;
  std::string envid;
  uid_t uid = 0;      // the local user who submitted it (the trace names it)
  std::string login;  // that user's login name
};

// `signer` may be null when no [[dkim]] entry is configured.
Result<queue::NewMessage> make_local_message(const config::Config& cfg, const std::string& hostname,
                                             const dkim::DkimSigner* signer, const LocalSubmission& s,
                                             QueueId id, smtp::WallTime now);

}  // namespace ferry::inbound
