// SubmitRequest: the body of POST /v1/messages, validated: either the parts Ferry renders to MIME
// (from, to, subject, text, html, headers) or a complete RFC 5322 message (from, to, raw).
// Contract: pure; every field from the network is checked (addresses as SMTP paths, header names
// as RFC 5322 ftext, values single-line, structural fields not overridable); errors name the field.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/submit/JsonValue.hpp"

namespace ferry::submit {

struct SubmitRequest {
  std::string from;             // the envelope sender and the From: field
  std::vector<std::string> to;  // the envelope recipients and the To: field
  std::string subject;
  std::optional<std::string> text;                           // CRLF line ends
  std::optional<std::string> html;                           // CRLF line ends
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields, in request order
  std::optional<std::string> raw;  // a complete message, CRLF line ends; excludes the fields above
};

struct RequestLimits {
  std::size_t max_recipients = 1000;   // [smtp] max_recipients
  std::size_t max_headers = 100;       // extra header fields
  std::size_t max_header_value = 900;  // octets; one line stays under 998 (RFC 5322 §2.1.1)
};

// A request error: the field it is about ("to[2]", "headers.X-Tag", "raw") and what is wrong.
struct RequestError {
  std::string field;
  std::string message;
};

Result<SubmitRequest, RequestError> parse_submit_request(const JsonValue& body,
                                                         const RequestLimits& limits = {});

// RFC 5322 §3.6.8 field-name: 1*ftext, ftext = %d33-57 / %d59-126.
bool is_field_name(std::string_view name);

// A raw message as RFC 5322 §2.1 wants it: a header section first (its first line a field),
// no NUL, no line longer than 998 octets. Returns why not, or nullopt when acceptable.
std::optional<std::string> raw_message_problem(std::string_view crlf_message);

}  // namespace ferry::submit
