// Canonicalization: RFC 6376 §3.4 "simple" and "relaxed" header and body canonicalization, and
// the split of a stored message (CRLF lines) into header fields and body. Contract: pure, std only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::dkim {

enum class Canon { Simple, Relaxed };
std::string_view to_string(Canon);  // "simple" / "relaxed"

// One header field of a message exactly as stored.
struct HeaderField {
  std::string_view name;   // the field name, without the colon or WSP before it
  std::string_view field;  // the whole field: name, colon, value, continuation lines, final CRLF
};

struct MessageParts {
  std::vector<HeaderField> headers;  // in message order (top first)
  std::string_view body;             // after the empty line; empty when there is none
};

// Splits at the first empty line (RFC 5322 §2.1). A line starting with SP or HTAB continues the
// previous field (§2.2.3). Without an empty line the whole message is header and the body empty.
MessageParts split_message(std::string_view message);
// The same walk without keeping the fields: `field` is called for each one in message order, and
// the body is returned. A header section of a million fields costs no memory this way.
std::string_view for_each_header_field(std::string_view message,
                                       const std::function<void(const HeaderField&)>& field);

// RFC 6376 §3.4.1 / §3.4.2: the field (as in HeaderField::field) canonicalized, CRLF-terminated.
std::string canonicalize_header(std::string_view field, Canon canon);

// RFC 6376 §3.4.3 / §3.4.4: feeds the canonical body to `out` in pieces (the body is never copied
// whole: a 25 MiB message is hashed as it is scanned).
void canonicalize_body(std::string_view body, Canon canon, const std::function<void(std::string_view)>& out);
std::string canonicalize_body(std::string_view body, Canon canon);

// ASCII case-insensitive equality of header field names (RFC 5322 §1.2.2).
bool same_name(std::string_view a, std::string_view b);

}  // namespace ferry::dkim
