// LineEnds: the one conversion of text to SMTP's line ends.
// Contract: every bare CR, bare LF and CRLF becomes CRLF (RFC 5321 §2.3.8 and RFC 5322 §2.3: CR
// and LF appear only together); nothing else changes, and no final line end is added.
#pragma once

#include <string>
#include <string_view>

namespace ferry::text {

inline std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32 + 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ferry::text
