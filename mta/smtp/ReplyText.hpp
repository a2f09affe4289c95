// ReplyText: formats a ferry::Reply into SMTP reply lines (RFC 5321 §4.2, RFC 2034 §4).
// Contract: every line is "code[-| ]status text\r\n"; multi-line text ("\n"-joined) uses "code-"
// on all lines but the last (§4.2.1); lines are cut so none exceeds 512 octets (§4.5.3.1.5).
#pragma once

#include <string>
#include <string_view>

#include "ferry/Reply.hpp"

namespace ferry::smtp {

// Builds a Reply from parts; `status` is "x.y.z" or empty.
Reply make_reply(int code, std::string_view status, std::string_view text);

// The wire form of `reply`, CRLF-terminated.
std::string format_reply(const Reply& reply);

// Shorthand: format_reply(make_reply(code, status, text)).
std::string format_reply(int code, std::string_view status, std::string_view text);

}  // namespace ferry::smtp
