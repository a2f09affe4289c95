// HttpReply: the answers of the HTTP submission API — status, extra header fields and a JSON body
// ({"error": ..., "field": ...} for every refusal; RFC 9457 would be heavier than apps need).
// Contract: pure; bodies are valid JSON (client-supplied text goes through JsonWriter's escaping);
// no header field value holds client text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/QueueId.hpp"
#include "mta/inbound/HttpSubmission.hpp"

namespace ferry::inbound {

struct HttpReply {
  int status = 0;  // 0: no reply, close the connection
  std::string body;
  std::vector<std::pair<std::string, std::string>> fields;  // extra header fields
  std::string queue_id;                                     // for the log line
};

// {"error": message, "field": field}; `retry` adds Retry-After (RFC 9110 §10.2.3) for 503.
HttpReply reply_error(int status, std::string_view message, std::string_view field = {}, bool retry = false);
// 401 with WWW-Authenticate: Bearer (RFC 6750 §3), error="invalid_token" when one was presented.
HttpReply reply_unauthorized(bool token_presented);
HttpReply reply_method_not_allowed(std::string_view allow);
// 422 (every recipient refused) or 400/413 from the acceptance step, with the refused recipients.
HttpReply reply_problem(const HttpProblem& problem);
// 202: {"id", "message_id", "accepted": [...], "refused": [{"address", "reply"}]}.
HttpReply reply_accepted(QueueId id, std::string_view message_id, const std::vector<std::string>& accepted,
                         const std::vector<RefusedRecipient>& refused);

}  // namespace ferry::inbound
