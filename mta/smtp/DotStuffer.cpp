// DotStuffer: a single scan over the body, copying runs between line breaks in bulk.
#include "mta/smtp/DotStuffer.hpp"

#include <cstring>

namespace ferry::smtp {

void dot_stuff_append(std::string_view body, std::string& out) {
  // Most bodies need a handful of extra octets; reserve a little slack to avoid regrowth.
  out.reserve(out.size() + body.size() + body.size() / 64 + 8);
  const char* p = body.data();
  const char* const end = p + body.size();
  bool line_start = true;
  while (p < end) {
    if (line_start && *p == '.') out.push_back('.');  // RFC 5321 §4.5.2 transparency
    // Copy up to the next CR or LF in one append.
    const char* q = p;
    while (q < end && *q != '\r' && *q != '\n') ++q;
    out.append(p, static_cast<std::size_t>(q - p));
    if (q == end) {
      p = q;
      line_start = false;
      break;
    }
    // CRLF, bare CR or bare LF: each is one line break, sent as CRLF (§2.3.8).
    if (*q == '\r' && q + 1 < end && q[1] == '\n') ++q;
    out.append("\r\n", 2);
    p = q + 1;
    line_start = true;
  }
  if (!line_start) out.append("\r\n", 2);  // §4.1.1.4: the data ends with CRLF before the dot
  out.append(".\r\n", 3);
}

std::string dot_stuff(std::string_view body) {
  std::string out;
  dot_stuff_append(body, out);
  return out;
}

bool has_8bit(std::string_view body) noexcept {
  for (unsigned char c : body)
    if (c & 0x80) return true;
  return false;
}

}  // namespace ferry::smtp
