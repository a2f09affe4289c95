// OriginalRecipient: ORCPT split and xtext-decoded for Original-Recipient (see the header).
#include "mta/dsn/OriginalRecipient.hpp"

#include "ferry/text/Xtext.hpp"

namespace ferry::dsn {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string decoded_or_verbatim(std::string_view xtext) {
  auto decoded = text::xtext_decode(xtext);
  return decoded ? std::move(*decoded) : std::string(xtext);
}

}  // namespace

OriginalRecipient parse_orcpt(std::string_view orcpt) {
  const std::size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return {"rfc822", decoded_or_verbatim(trim(orcpt))};
  std::string_view type = trim(orcpt.substr(0, semi));
  return {type.empty() ? std::string("rfc822") : std::string(type),
          decoded_or_verbatim(trim(orcpt.substr(semi + 1)))};
}

}  // namespace ferry::dsn
