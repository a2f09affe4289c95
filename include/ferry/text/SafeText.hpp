// SafeText: the one escaper for text a client or a remote server wrote (HELO names, AUTH user
// names, addresses, remote replies, stored headers) before it reaches a log, a header or a terminal.
// Contract: std-only and pure; the result has no control characters (C0, DEL, C1 are written as
// \xNN) and is valid UTF-8 (each invalid byte becomes U+FFFD); valid UTF-8 and printable ASCII,
// backslash included, pass through, so applying it twice changes nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::text {

// The length (2..4) of the well-formed UTF-8 sequence starting at s[i] with a byte >= 0x80, or 0
// when it is ill-formed: a stray continuation byte, an overlong form, a surrogate (U+D800..DFFF)
// or a code point above U+10FFFF (RFC 3629 §4, Unicode Table 3-7).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) n = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

inline bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Appends `in` with every ill-formed UTF-8 byte replaced by U+FFFD; nothing else changes.
inline void append_valid_utf8(std::string& out, std::string_view in) {
  for (std::size_t i = 0; i < in.size();) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      out += in[i++];
      continue;
    }
    const std::size_t n = utf8_sequence_length(in, i);
    if (n == 0) {
      out += kReplacementCharacter;
      ++i;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
  }
}

// Appends `in` made safe to print on one line: C0 controls (CR and LF included), DEL and the
// C1 controls U+0080..U+009F as \xNN per byte (a terminal obeys C1 escapes such as CSI too);
// ill-formed UTF-8 as U+FFFD.
inline void append_safe_text(std::string& out, std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto escape = [&out](unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 0xF];
  };
  for (std::size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = utf8_sequence_length(in, i); n == 0) {
      out += kReplacementCharacter;
      ++i;
    } else if (c == 0xC2 && static_cast<unsigned char>(in[i + 1]) < 0xA0) {
      escape(c);
      escape(static_cast<unsigned char>(in[i + 1]));
      i += 2;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
  }
}

inline std::string safe_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  append_safe_text(out, in);
  return out;
}

// True when `in` has a C0 control character or DEL (what a HELO argument must never carry).
inline bool has_control_characters(std::string_view in) {
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace ferry::text
