// Canonicalization: RFC 6376 §3.4 header and body canonicalization (see the header).
#include "mta/dkim/Canonicalization.hpp"
#include "ferry/text/Ascii.hpp"

namespace ferry::dkim {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
using text::ascii_lower;

// Relaxed line rule shared by headers and body (§3.4.2 / §3.4.4): every run of WSP becomes one
// SP, and WSP at the end is dropped. Appends to `out`.
void squeeze_wsp(std::string_view text, std::string& out) {
  bool pending_space = false;
  for (char c : text) {
    if (is_wsp(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
}

}  // namespace

std::string_view to_string(Canon c) { return c == Canon::Simple ? "simple" : "relaxed"; }

bool same_name(std::string_view a, std::string_view b) { return text::iequals(a, b); }

MessageParts split_message(std::string_view m) {
  MessageParts parts;
  parts.body = for_each_header_field(m, [&](const HeaderField& f) { parts.headers.push_back(f); });
  return parts;
}

std::string_view for_each_header_field(std::string_view m,
                                       const std::function<void(const HeaderField&)>& each) {
  std::size_t pos = 0;
  while (pos < m.size()) {
    if (m.compare(pos, 2, "\r\n") == 0) return m.substr(pos + 2);  // the empty line ending the header section
    // One field: this line and every following line that starts with WSP (§2.2.3 folding).
    std::size_t end = pos;
    for (;;) {
      const std::size_t eol = m.find("\r\n", end);
      if (eol == std::string_view::npos) {
        end = m.size();
        break;
      }
      end = eol + 2;
      if (end >= m.size() || !is_wsp(m[end])) break;
    }
    const std::string_view field = m.substr(pos, end - pos);
    std::string_view name = field.substr(0, field.find(':'));
    if (name.size() == field.size()) name = {};  // no colon: not a field we can name or sign
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    each(HeaderField{name, field});
    pos = end;
  }
  return {};
}

std::string canonicalize_header(std::string_view field, Canon canon) {
  if (canon == Canon::Simple) {
    std::string out(field);
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
  }
  // §3.4.2: lower-case name; unfold; WSP runs -> SP; no WSP at the end of the value or around
  // the colon.
  const std::size_t colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out;
  out.reserve(field.size());
  for (char c : name) out += ascii_lower(c);
  out += ':';
  if (colon != std::string_view::npos) {
    std::string unfolded;
    unfolded.reserve(field.size() - colon);
    const std::string_view value = field.substr(colon + 1);
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
        ++i;
        continue;
      }
      unfolded += value[i];
    }
    std::string_view v = unfolded;
    while (!v.empty() && is_wsp(v.front())) v.remove_prefix(1);
    squeeze_wsp(v, out);
  }
  out += "\r\n";
  return out;
}

void canonicalize_body(std::string_view body, Canon canon, const std::function<void(std::string_view)>& out) {
  static constexpr std::string_view kCrlf = "\r\n";
  if (canon == Canon::Simple) {
    // §3.4.3: drop empty lines at the end; an empty body, or one without a final CRLF, gets one.
    std::size_t end = body.size();
    while (end >= 4 && body.compare(end - 4, 4, "\r\n\r\n") == 0) end -= 2;
    if (end == 2 && body.compare(0, 2, kCrlf) == 0) end = 0;
    const std::string_view kept = body.substr(0, end);
    if (!kept.empty()) out(kept);
    if (kept.size() < 2 || kept.compare(kept.size() - 2, 2, kCrlf) != 0) out(kCrlf);
    return;
  }
  // §3.4.4: per line, WSP runs -> SP and no WSP at the end; empty lines at the end are dropped;
  // a non-empty body without a final CRLF gets one; an empty body stays empty.
  std::size_t pending_empty = 0;
  std::string buffer, line;
  buffer.reserve(64 * 1024);
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find(kCrlf, pos);
    const std::size_t next = eol == std::string_view::npos ? body.size() : eol + 2;
    if (eol == std::string_view::npos) eol = body.size();
    line.clear();
    squeeze_wsp(body.substr(pos, eol - pos), line);
    if (line.empty()) {
      ++pending_empty;  // an empty line: held back until a later non-empty line proves it inner
    } else {
      for (; pending_empty > 0; --pending_empty) buffer += kCrlf;
      buffer += line;
      buffer += kCrlf;
      if (buffer.size() >= 60 * 1024) {
        out(buffer);
        buffer.clear();
      }
    }
    pos = next;
  }
  if (!buffer.empty()) out(buffer);
}

std::string canonicalize_body(std::string_view body, Canon canon) {
  std::string out;
  canonicalize_body(body, canon, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

}  // namespace ferry::dkim
