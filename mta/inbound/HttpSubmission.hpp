// HttpSubmission: an authenticated POST /v1/messages turned into the envelope and message the
// SMTP server would have queued — recipients through the relay rules and the recipient-refusal
// hook, the Received trace first, the hop count and size limits of [smtp].
// Contract: pure (time, queue id and client are inputs); DKIM signing and the commit are the
// server's (PrepareForQueue, CommitBatcher), as for SMTP.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/smtp/ReceivedHeader.hpp"
#include "mta/smtp/RelayPolicy.hpp"
#include "mta/submit/SubmitRequest.hpp"

namespace ferry::inbound {

// Returns the full SMTP-style reply line ("550 5.1.1 <a@b>: suppressed ...") for a recipient
// that must not get mail, or nullopt. Wired to the suppression list by the daemon.
using RecipientRefusal = std::function<std::optional<std::string>(std::string_view address)>;

struct RefusedRecipient {
  std::string address;
  std::string reply;  // the SMTP-style reply line
};

struct HttpClient {
  std::string ip;           // the peer's address
  std::string token_label;  // "line 3": which token, never the token
};

struct HttpSubmission {
  Envelope envelope;       // the accepted recipients only
  std::string body;        // Received trace first, CRLF line ends, not yet signed
  std::string message_id;  // the Message-ID field Ferry wrote, empty for raw messages
  std::vector<RefusedRecipient> refused;
};

// Why a request is not accepted: the HTTP status, a message, the field it is about and, for 422,
// every refused recipient.
struct HttpProblem {
  int status = 400;
  std::string message;
  std::string field;
  std::vector<RefusedRecipient> refused;
};

struct HttpSubmissionInputs {
  const config::Config& config;
  const std::string& hostname;
  const smtp::RelayPolicy& relay;
  const RecipientRefusal& refusal;  // may be empty
  QueueId id;
  HttpClient client;
  smtp::WallTime now;
};

Result<HttpSubmission, HttpProblem> make_http_submission(const HttpSubmissionInputs& in,
                                                         const submit::SubmitRequest& request);

}  // namespace ferry::inbound
