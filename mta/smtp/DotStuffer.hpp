// DotStuffer: turns a stored message body into the octets sent after DATA's 354 (RFC 5321 §4.5.2).
// Contract: one pass; every line ends in CRLF (bare CR and bare LF become CRLF, §2.3.8), a line
// starting with "." gets one more, a missing final CRLF is added (§4.1.1.4), then ".\r\n".
#pragma once

#include <string>
#include <string_view>

namespace ferry::smtp {

// The DATA payload for `body`, terminating ".\r\n" included. An empty body gives ".\r\n".
std::string dot_stuff(std::string_view body);

// Same, appended to `out` (for callers that build one write buffer).
void dot_stuff_append(std::string_view body, std::string& out);

// True when the body has an octet with the high bit set: it needs BODY=8BITMIME (RFC 6152) and
// must not go to a server that did not advertise 8BITMIME (RFC 5321 §2.4, checklist 5321-09).
bool has_8bit(std::string_view body) noexcept;

}  // namespace ferry::smtp
