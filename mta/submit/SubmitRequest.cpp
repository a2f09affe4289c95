// SubmitRequest: see SubmitRequest.hpp. The request is refused on the first problem, as a 400
// names one field: an application fixing its request wants the precise cause, not a list.
#include "mta/submit/SubmitRequest.hpp"

#include <array>

#include "ferry/text/Ascii.hpp"
#include "ferry/text/LineEnds.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/smtp/AddressParser.hpp"

namespace ferry::submit {
namespace {

using Kind = JsonValue::Kind;

RequestError problem(std::string field, std::string message) {
  return {std::move(field), std::move(message)};
}

// Fields Ferry writes itself: an application may not replace them, as a second Content-Type or
// MIME-Version would make the body mean something else (RFC 2045 §3), and a second From, Date or
// Message-ID breaks RFC 5322 §3.6's "exactly one". Trace and signature fields are this hop's.
constexpr std::array kReserved = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "received",
    "return-path",
    "sender",
    "dkim-signature",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "content-description",
};

bool reserved(std::string_view name) {
  const std::string lower = text::to_lower(name);
  for (const char* r : kReserved)
    if (lower == r) return true;
  return lower.starts_with("content-");
}

// The address as an SMTP path would carry it (RFC 5321 §4.1.2), UTF-8 allowed (RFC 6531).
std::optional<std::string> address_problem(std::string_view address, smtp::PathKind kind) {
  if (address.empty()) return "an address is required";
  const auto parsed = smtp::parse_path("<" + std::string(address) + ">", kind, true);
  if (!parsed.ok()) return std::string("invalid address: ") + smtp::to_string(parsed.error);
  if (parsed.consumed != address.size() + 2) return "invalid address: text after the address";
  if (parsed.path.domain.empty()) return "invalid address: a domain is required";
  return std::nullopt;
}

Result<std::string, RequestError> string_field(const JsonValue& v, const std::string& name) {
  if (!v.is(Kind::String)) return problem(name, "must be a string");
  if (v.text.find('\0') != std::string::npos) return problem(name, "must not contain NUL");
  return v.text;
}

std::optional<RequestError> parse_to(const JsonValue& v, const RequestLimits& limits, SubmitRequest& out) {
  if (!v.is(Kind::Array)) return problem("to", "must be an array of addresses");
  if (v.items.empty()) return problem("to", "at least one recipient is required");
  if (v.items.size() > limits.max_recipients)
    return problem("to", "more than " + std::to_string(limits.max_recipients) + " recipients");
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const std::string field = "to[" + std::to_string(i) + "]";
    auto s = string_field(v.items[i], field);
    if (!s) return s.error();
    if (auto why = address_problem(*s, smtp::PathKind::Forward)) return problem(field, *why);
    out.to.push_back(std::move(*s));
  }
  return std::nullopt;
}

std::optional<RequestError> parse_headers(const JsonValue& v, const RequestLimits& limits,
                                          SubmitRequest& out) {
  if (!v.is(Kind::Object)) return problem("headers", "must be an object of field names to values");
  if (v.members.size() > limits.max_headers)
    return problem("headers", "more than " + std::to_string(limits.max_headers) + " fields");
  for (const auto& [name, value] : v.members) {
    const std::string field = "headers." + text::to_lower(name).substr(0, 76);
    if (!is_field_name(name) || name.size() > 76) return problem("headers", "invalid field name");
    if (reserved(name)) return problem(field, "is written by Ferry and cannot be set");
    auto s = string_field(value, field);
    if (!s) return s.error();
    // One line: a CR or LF would end the field and start another one (header injection).
    for (unsigned char c : *s)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return problem(field, "must be one line of text");
    if (!text::is_ascii(*s)) return problem(field, "must be ASCII");
    if (s->size() > limits.max_header_value)
      return problem(field, "longer than " + std::to_string(limits.max_header_value) + " octets");
    out.headers.emplace_back(name, std::move(*s));
  }
  return std::nullopt;
}

std::optional<RequestError> parse_member(const std::string& name, const JsonValue& v,
                                         const RequestLimits& limits, SubmitRequest& out) {
  if (name == "to") return parse_to(v, limits, out);
  if (name == "headers") return parse_headers(v, limits, out);
  if (name != "from" && name != "subject" && name != "text" && name != "html" && name != "raw")
    return problem(name.substr(0, 64), "unknown field");
  auto s = string_field(v, name);
  if (!s) return s.error();
  if (name == "from") {
    if (auto why = address_problem(*s, smtp::PathKind::Reverse)) return problem("from", *why);
    out.from = std::move(*s);
  } else if (name == "subject") {
    for (unsigned char c : *s)
      if (c < 0x20 || c == 0x7f) return problem("subject", "must be one line of text");
    if (s->size() > 900) return problem("subject", "longer than 900 octets");
    out.subject = std::move(*s);
  } else if (name == "text") {
    out.text = text::to_crlf(*s);
  } else if (name == "html") {
    out.html = text::to_crlf(*s);
  } else {
    std::string raw = text::to_crlf(*s);
    if (auto why = raw_message_problem(raw)) return problem("raw", *why);
    out.raw = std::move(raw);
  }
  return std::nullopt;
}

}  // namespace

bool is_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c < 33 || c > 126 || c == ':') return false;
  return true;
}

std::optional<std::string> raw_message_problem(std::string_view m) {
  if (m.find('\0') != std::string_view::npos) return "contains NUL";
  const std::size_t first_end = m.find("\r\n");
  const std::string_view first = m.substr(0, first_end);
  const std::size_t colon = first.find(':');
  if (colon == std::string_view::npos || !is_field_name(first.substr(0, colon)))
    return "must start with a header section (RFC 5322 §2.1)";
  std::size_t start = 0;
  while (start < m.size()) {
    std::size_t end = m.find("\r\n", start);
    if (end == std::string_view::npos) end = m.size();
    if (end - start > 998) return "a line is longer than 998 octets (RFC 5322 §2.1.1)";
    start = end + 2;
  }
  return std::nullopt;
}

Result<SubmitRequest, RequestError> parse_submit_request(const JsonValue& body, const RequestLimits& limits) {
  if (!body.is(Kind::Object)) return problem("", "the body must be a JSON object");
  SubmitRequest out;
  for (const auto& [name, value] : body.members)
    if (auto p = parse_member(name, value, limits, out)) return *p;
  if (out.from.empty()) return problem("from", "is required");
  if (out.to.empty()) return problem("to", "is required");
  if (out.raw) {
    if (body.find("subject") || body.find("text") || body.find("html") || body.find("headers"))
      return problem("raw", "excludes subject, text, html and headers");
  } else if (!out.text && !out.html) {
    return problem("text", "text, html or raw is required");
  }
  return out;
}

}  // namespace ferry::submit
