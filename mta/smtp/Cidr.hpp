// Cidr: an IPv4 or IPv6 network ("192.0.2.0/24", "2001:db8::/32", "::1") for relay networks.
// Contract: pure; IPv4 networks also match IPv4-mapped IPv6 clients (::ffff:192.0.2.1); host
// bits below the prefix are ignored on parse (Postfix-style "10.1.2.3/8" means 10.0.0.0/8).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "mta/smtp/IpAddress.hpp"

namespace ferry::smtp {

class Cidr {
 public:
  // "addr" (host route) or "addr/prefix"; IPv4 prefix 0..32, IPv6 prefix 0..128.
  static std::optional<Cidr> parse(std::string_view text);

  bool contains(const IpAddress& ip) const;
  bool contains(std::string_view ip_text) const;  // false when the text is not an address

  const IpAddress& network() const { return network_; }
  int prefix_bits() const { return prefix_; }  // in the 128-bit space

 private:
  IpAddress network_;
  int prefix_ = 128;
};

// True when `ip_text` is inside any of `networks`.
bool any_contains(std::span<const Cidr> networks, std::string_view ip_text);

}  // namespace ferry::smtp
