// FromDomain: mailbox-list parsing just deep enough to find each address's domain (see header).
#include "mta/dkim/FromDomain.hpp"
#include "ferry/text/Ascii.hpp"

namespace ferry::dkim {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// The domain of one mailbox's text (comments already removed, quoted strings emptied).
std::optional<std::string> mailbox_domain(std::string_view box) {
  if (const auto lt = box.find('<'); lt != std::string_view::npos) {
    const auto gt = box.find('>', lt);
    box = box.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
    if (const auto colon = box.rfind(':'); colon != std::string_view::npos)
      box.remove_prefix(colon + 1);  // route
  }
  const auto at = box.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view domain = trim(box.substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.front() == '[') return std::nullopt;
  std::string out;
  for (char c : domain) {
    if (is_wsp(c)) continue;  // CFWS between atoms of an obsolete domain
    out += text::ascii_lower(c);
  }
  return out;
}

}  // namespace

std::vector<std::string> address_domains(std::string_view value) {
  // One pass: drop comments (nested, with quoted-pairs), keep quoted strings as "" (an '@' or ','
  // inside them means nothing), and split mailboxes at top-level ',' and group ':' / ';'.
  std::vector<std::string> out;
  std::string box;
  int comment = 0;
  bool quoted = false, angle = false;
  const auto flush = [&] {
    if (auto d = mailbox_domain(box)) out.push_back(std::move(*d));
    box.clear();
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && (quoted || comment > 0)) {
      ++i;  // quoted-pair
      continue;
    }
    if (quoted) {
      if (c == '"') quoted = false, box += '"';
      continue;
    }
    if (comment > 0) {
      if (c == '(')
        ++comment;
      else if (c == ')')
        --comment;
      continue;
    }
    switch (c) {
      case '(':
        ++comment;
        break;
      case '"':
        quoted = true;
        box += '"';
        break;
      case '<':
        angle = true;
        box += c;
        break;
      case '>':
        angle = false;
        box += c;
        break;
      case ',':
      case ';':
        if (angle)
          box += c;
        else
          flush();
        break;
      case ':':
        if (angle)
          box += c;
        else
          box.clear();  // "group-name:" starts a group; the name is no mailbox
        break;
      default:
        box += c;
    }
  }
  flush();
  return out;
}

}  // namespace ferry::dkim
