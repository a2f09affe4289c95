// IpAddress: textual IPv4 (RFC 5321 §4.1.3 IPv4-address-literal) and IPv6 (RFC 4291 §2.2) parsing.
// Contract: pure; IPv4 is dotted-quad decimal only (no octal/hex/short forms); IPv6 accepts "::"
// compression and a trailing dotted IPv4; an IPv4 address is held as IPv4-mapped IPv6 (::ffff:a.b.c.d).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::smtp {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 stored as ::ffff:a.b.c.d
  bool v4 = false;                       // parsed from IPv4 text (or is IPv4-mapped)

  static std::optional<IpAddress> parse_v4(std::string_view text);
  static std::optional<IpAddress> parse_v6(std::string_view text);
  // Either form; an IPv6 zone suffix ("%eth0") is ignored.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4_mapped() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

}  // namespace ferry::smtp
