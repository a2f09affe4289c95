// Text: octet-level hygiene for everything DsnComposer copies out of envelopes, replies and
// stored messages. Contract: pure; output never holds bare CR/LF, and lines stay ≤ 998 octets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ferry/text/Ascii.hpp"

namespace ferry::dsn {

// RFC 5322 §2.1.1: a line is at most 998 octets, excluding CRLF.
inline constexpr std::size_t kMaxLineOctets = 998;

bool has_non_ascii(std::string_view text) noexcept;

// ASCII case-insensitive equality (header names, addresses compared for loops).
using text::iequals;

// One line of field text: CR, LF, TAB and other controls become spaces. Without `utf8`, every
// non-ASCII octet becomes '?' (a plain DSN is 7-bit, RFC 3464 §2); with `utf8`, valid UTF-8 is
// kept (RFC 6533) and each octet of an invalid sequence becomes '?'.
std::string one_line(std::string_view text, bool utf8);

// Every bare CR, bare LF and CRLF becomes CRLF (RFC 5321 §2.3.8: nothing else ends a line);
// a missing final CRLF is added unless `text` is empty.
std::string normalize_crlf(std::string_view text);

// Breaks every CRLF-terminated line longer than kMaxLineOctets by inserting CRLF SP (a fold in
// a header section; as Postfix does, a visible break in a body). Never splits a UTF-8 sequence.
std::string limit_line_length(std::string_view text);

}  // namespace ferry::dsn
