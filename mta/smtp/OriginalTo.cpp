// OriginalTo: see OriginalTo.hpp.
#include "mta/smtp/OriginalTo.hpp"

#include <algorithm>
#include <string_view>

namespace ferry::smtp {
namespace {

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

std::string original_to_fields(const std::vector<std::string>& addresses) {
  std::string out;
  std::vector<std::string_view> seen;
  for (const auto& a : addresses) {
    if (a.empty() || has_control(a) || std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
    seen.emplace_back(a);
    out.append("X-Original-To: ").append(a).append("\r\n");
  }
  return out;
}

}  // namespace ferry::smtp
