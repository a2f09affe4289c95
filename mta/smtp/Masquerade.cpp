// Masquerade: see Masquerade.hpp.
#include "mta/smtp/Masquerade.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::smtp {
namespace {

using text::iequals;

bool is_local(std::string_view domain, const MasqueradeRule& rule) {
  for (const auto& d : rule.local_domains)
    if (iequals(d, domain)) return true;
  return false;
}

// What may follow a domain inside an RFC 5322 address field: the angle bracket, a list comma,
// a group's ';', a comment, white space or the end of the field.
bool ends_domain(char c) {
  return c == '>' || c == ',' || c == ';' || c == '(' || c == ')' || c == ' ' || c == '\t' || c == '\r' ||
         c == '\n' || c == '"';
}

// The end of the field that starts at `start`: the line end not followed by a folded line.
std::size_t field_end(std::string_view m, std::size_t start) {
  std::size_t at = start;
  for (;;) {
    const std::size_t nl = m.find('\n', at);
    if (nl == std::string_view::npos) return m.size();
    if (nl + 1 < m.size() && (m[nl + 1] == ' ' || m[nl + 1] == '\t')) {
      at = nl + 1;
      continue;
    }
    return nl + 1;
  }
}

// The offset of the first "From:" field in the header (before the first empty line), or npos.
std::size_t find_from(std::string_view m) {
  std::size_t line = 0;
  while (line < m.size()) {
    if (m[line] == '\n' || m.substr(line, 2) == "\r\n") return std::string_view::npos;  // header ended
    if (m.size() - line >= 5 && iequals(m.substr(line, 5), "from:")) return line;
    const std::size_t nl = m.find('\n', line);
    if (nl == std::string_view::npos) return std::string_view::npos;
    line = nl + 1;
  }
  return std::string_view::npos;
}

// Replaces "@<local domain>" wherever it is a whole domain in `field`.
std::string rewrite_field(std::string_view field, const MasqueradeRule& rule) {
  std::string out;
  out.reserve(field.size() + rule.domain.size());
  std::size_t i = 0;
  while (i < field.size()) {
    const std::size_t at = field.find('@', i);
    if (at == std::string_view::npos) break;
    std::size_t end = at + 1;
    while (end < field.size() && !ends_domain(field[end]) && field[end] != '@') ++end;
    out.append(field.substr(i, at + 1 - i));
    const std::string_view domain = field.substr(at + 1, end - at - 1);
    out.append(!domain.empty() && is_local(domain, rule) ? std::string_view(rule.domain) : domain);
    i = end;
  }
  out.append(field.substr(i));
  return out;
}

}  // namespace

std::string masquerade_address(std::string_view address, const MasqueradeRule& rule) {
  const std::size_t at = address.rfind('@');
  if (!rule.active() || at == std::string_view::npos || !is_local(address.substr(at + 1), rule))
    return std::string(address);
  std::string out(address.substr(0, at + 1));
  out += rule.domain;
  return out;
}

void masquerade_from_field(std::string& message, const MasqueradeRule& rule) {
  const std::size_t start = rule.active() ? find_from(message) : std::string_view::npos;
  if (start == std::string_view::npos) return;
  const std::size_t end = field_end(message, start);
  const std::string field = rewrite_field(std::string_view(message).substr(start, end - start), rule);
  message.replace(start, end - start, field);
}

}  // namespace ferry::smtp
