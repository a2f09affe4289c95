// AddressLiteral: the literal's brackets and tag; the address itself is text::IpAddress's.
#include "mta/delivery/AddressLiteral.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::delivery {

std::optional<IpAddr> parse_address_literal(std::string_view domain) {
  if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
  const std::string_view inner = domain.substr(1, domain.size() - 2);
  // RFC 5321 §4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr (IPv6 text only, no zone).
  if (inner.size() > 5 && text::iequals(inner.substr(0, 5), "IPv6:")) {
    const std::string_view addr = inner.substr(5);
    if (addr.find(':') == std::string_view::npos) return std::nullopt;
    return IpAddr::parse_v6(addr);
  }
  if (inner.find(':') != std::string_view::npos) return std::nullopt;  // other tags: undeliverable
  return IpAddr::parse_v4(inner);
}

}  // namespace ferry::delivery
