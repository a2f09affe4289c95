// Xtext: RFC 3461 §4 xtext decoding (see Xtext.hpp).
#include "mta/dsn/Xtext.hpp"

namespace ferry::dsn {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // RFC 3461 §4: hexchar is upper case only
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string xtext_decode(std::string_view xtext) {
  std::string out;
  out.reserve(xtext.size());
  for (std::size_t i = 0; i < xtext.size(); ++i) {
    if (xtext[i] == '+' && i + 2 < xtext.size()) {
      const int h = hex(xtext[i + 1]), l = hex(xtext[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += xtext[i];
  }
  return out;
}

OriginalRecipient parse_orcpt(std::string_view orcpt) {
  const std::size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return {"rfc822", xtext_decode(trim(orcpt))};
  std::string_view type = trim(orcpt.substr(0, semi));
  return {type.empty() ? std::string("rfc822") : std::string(type), xtext_decode(trim(orcpt.substr(semi + 1)))};
}

}  // namespace ferry::dsn
