// JsonEscape: the one JSON string escaper, shared by `--json` CLI output and JSON log lines.
// Contract: appends the body of a JSON string (no surrounding quotes); '"', '\\' and control
// characters are escaped, well-formed UTF-8 passes through unchanged and each ill-formed byte
// becomes U+FFFD, so the result is always valid JSON text (RFC 8259 §8.1: UTF-8).
#pragma once

#include <string>
#include <string_view>

#include "ferry/text/SafeText.hpp"

namespace ferry {

// RFC 8259 §7 requires escaping only '"', '\\' and U+0000..U+001F. Bytes >= 0x80 are copied as
// they are when they form valid UTF-8; a client's or a remote server's stray bytes (Latin-1, a
// cut sequence) become U+FFFD, as RFC 8259 §8.1 allows no other encoding.
inline void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string valid;
  if (!ferry::text::is_ascii(text)) {
    ferry::text::append_valid_utf8(valid, text);
    text = valid;
  }
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          // The short forms above cover the common ones; the rest become \u00XX (lower-case hex).
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

// The quoted JSON string for text: '"' + escaped body + '"'.
inline std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  append_json_escaped(out, text);
  out += '"';
  return out;
}

}  // namespace ferry
