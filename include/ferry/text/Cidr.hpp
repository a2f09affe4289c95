// Cidr: an IPv4 or IPv6 network ("192.0.2.0/24", "2001:db8::/32", "::1") for relay networks.
// Contract: pure, std only, header-only; addresses follow IpAddress (no leading zeros, no zone);
// an IPv4 network matches IPv4 and IPv4-mapped clients, an IPv6 network only other IPv6 clients.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ferry/text/IpAddress.hpp"

namespace ferry::text {

class Cidr {
 public:
  // "addr" (a host: /32 or /128) or "addr/prefix" (IPv4 0..32, IPv6 0..128, decimal). Host bits
  // below the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8); a caller that must refuse them
  // compares network() with the address it parsed.
  static std::optional<Cidr> parse(std::string_view text);
  // The network of `ip` at `prefix` bits of its own family (clamped to 32 or 128); `v4` is the
  // family it was written in (an IPv6-written ::ffff:a.b.c.d network is an IPv6 network).
  static Cidr of(const IpAddress& ip, unsigned prefix, bool v4);

  bool contains(const IpAddress& ip) const;
  bool contains(std::string_view ip_text) const;  // false when the text is not an address

  bool is_v4() const { return v4_; }
  unsigned prefix() const { return prefix_; }  // in the family's own bits: 0..32 or 0..128
  const IpAddress& network() const { return network_; }
  std::string str() const;  // "192.0.2.0/24", "2001:db8::/32"
  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  unsigned bits128() const { return v4_ ? 96 + prefix_ : prefix_; }

  IpAddress network_;
  unsigned prefix_ = 0;
  bool v4_ = false;
};

// True when `ip_text` is inside any of `networks`.
bool any_contains(std::span<const Cidr> networks, std::string_view ip_text);

inline Cidr Cidr::of(const IpAddress& ip, unsigned prefix, bool v4) {
  Cidr c;
  c.v4_ = v4;
  c.prefix_ = std::min(prefix, v4 ? 32u : 128u);
  c.network_ = ip;
  const unsigned keep = c.bits128();
  for (unsigned i = 0; i < 16; ++i) {
    if (keep >= (i + 1) * 8) continue;
    const unsigned k = keep > i * 8 ? keep - i * 8 : 0;
    c.network_.bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> k);
  }
  c.network_.v4 = c.network_.is_v4_mapped();
  return c;
}

inline std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::string_view addr = text;
  std::optional<unsigned> bits;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    const std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    unsigned v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    bits = v;
  }
  // The family is the one written: "::ffff:192.0.2.0/120" is an IPv6 network.
  const bool v6_text = addr.find(':') != std::string_view::npos;
  auto ip = v6_text ? IpAddress::parse_v6(addr) : IpAddress::parse_v4(addr);
  const unsigned max = v6_text ? 128 : 32;
  if (!ip || bits.value_or(max) > max) return std::nullopt;
  return of(*ip, bits.value_or(max), !v6_text);
}

inline bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v4 != v4_) return false;  // an IPv6 network never matches an IPv4 (or mapped) client
  const unsigned keep = bits128();
  for (unsigned i = 0; i < 16; ++i) {
    if (keep <= i * 8) return true;
    const unsigned k = keep - i * 8;
    const auto mask = static_cast<std::uint8_t>(k >= 8 ? 0xFF : 0xFF00u >> k);
    if ((ip.bytes[i] & mask) != network_.bytes[i]) return false;
  }
  return true;
}

inline bool Cidr::contains(std::string_view ip_text) const {
  auto ip = IpAddress::parse(ip_text);
  return ip && contains(*ip);
}

inline std::string Cidr::str() const {
  return (v4_ ? network_.str() : network_.str_v6()) + "/" + std::to_string(prefix_);
}

inline bool any_contains(std::span<const Cidr> networks, std::string_view ip_text) {
  auto ip = IpAddress::parse(ip_text);
  if (!ip) return false;
  for (const auto& n : networks)
    if (n.contains(*ip)) return true;
  return false;
}

}  // namespace ferry::text
