// Text: octet-level hygiene for DSN content (see Text.hpp).
#include "mta/dsn/Text.hpp"

#include "ferry/text/Ascii.hpp"
#include "ferry/text/LineEnds.hpp"

namespace ferry::dsn {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence at text[i], or 0 (RFC 3629 §4: no overlongs, no surrogates,
// nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c == 0xE0)
    n = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC)
    n = 3;
  else if (c == 0xED)
    n = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF)
    n = 3;
  else if (c == 0xF0)
    n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3)
    n = 4;
  else if (c == 0xF4)
    n = 4, hi = 0x8F;
  else
    return 0;
  if (i + n > text.size()) return 0;
  const auto c1 = static_cast<unsigned char>(text[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return 0;
  return n;
}

}  // namespace

bool has_non_ascii(std::string_view text) noexcept {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::string one_line(std::string_view text, bool utf8) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      out += ' ';
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t n = utf8 ? utf8_sequence(text, i) : 0; n != 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string normalize_crlf(std::string_view text) {
  std::string out = text::to_crlf(text);
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string limit_line_length(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\r\n", start);
    const bool terminated = end != std::string_view::npos;
    if (!terminated) end = text.size();
    std::string_view line = text.substr(start, end - start);
    std::size_t room = kMaxLineOctets;
    while (line.size() > room) {
      std::size_t cut = room;
      // Back off to a character boundary so a UTF-8 sequence is never split.
      while (cut > 1 && is_continuation(static_cast<unsigned char>(line[cut]))) --cut;
      out.append(line.substr(0, cut));
      out += "\r\n ";
      line.remove_prefix(cut);
      room = kMaxLineOctets - 1;  // the continuation line starts with the inserted SP
    }
    out.append(line);
    if (terminated) out += "\r\n";
    start = terminated ? end + 2 : end;
  }
  return out;
}

}  // namespace ferry::dsn
