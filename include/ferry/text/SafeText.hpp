// SafeText: the one escaper for text a client or a remote server wrote (HELO names, AUTH user
// names, addresses, remote replies, stored headers) before it reaches a log, a header or a terminal.
// Contract: std-only and pure; the result has no control characters (C0, DEL, C1 are written as
// \xNN) and is valid UTF-8 (each invalid byte becomes U+FFFD); valid UTF-8 and printable ASCII,
// backslash included, pass through, so applying it twice changes nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ferry/text/Ascii.hpp"

namespace ferry::text {

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
