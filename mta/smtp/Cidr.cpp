#include "mta/smtp/Cidr.hpp"

namespace ferry::smtp {

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::string_view addr = text;
  std::optional<int> bits;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    bits = v;
  }
  const bool v6_text = addr.find(':') != std::string_view::npos;
  auto ip = v6_text ? IpAddress::parse_v6(addr) : IpAddress::parse_v4(addr);
  if (!ip) return std::nullopt;
  Cidr c;
  if (!v6_text) {
    if (bits && *bits > 32) return std::nullopt;
    c.prefix_ = 96 + bits.value_or(32);
  } else {
    if (bits && *bits > 128) return std::nullopt;
    c.prefix_ = bits.value_or(128);
  }
  // Clear host bits.
  for (int i = 0; i < 16; ++i) {
    const int keep = c.prefix_ - i * 8;
    if (keep >= 8) continue;
    if (keep <= 0) ip->bytes[i] = 0;
    else ip->bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - keep));
  }
  c.network_ = *ip;
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  for (int i = 0; i < 16; ++i) {
    const int keep = prefix_ - i * 8;
    if (keep <= 0) return true;
    const std::uint8_t mask = keep >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - keep));
    if ((ip.bytes[i] & mask) != network_.bytes[i]) return false;
  }
  return true;
}

bool Cidr::contains(std::string_view ip_text) const {
  auto ip = IpAddress::parse(ip_text);
  return ip && contains(*ip);
}

bool any_contains(std::span<const Cidr> networks, std::string_view ip_text) {
  auto ip = IpAddress::parse(ip_text);
  if (!ip) return false;
  for (const auto& n : networks)
    if (n.contains(*ip)) return true;
  return false;
}

}  // namespace ferry::smtp
