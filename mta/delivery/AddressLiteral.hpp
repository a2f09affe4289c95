// AddressLiteral: IP address text and SMTP address literals "[192.0.2.1]", "[IPv6:2001:db8::1]"
// (RFC 5321 §4.1.3). Contract: pure; strict parsing; equal addresses compare equal whatever
// their spelling ("::1" == "0:0:0:0:0:0:0:1", "::ffff:192.0.2.1" == "192.0.2.1").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::delivery {

struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 held as ::ffff:a.b.c.d
  bool v6 = false;                       // false for IPv4 (and IPv4-mapped IPv6)

  // Dotted-quad IPv4 (RFC 5321 §4.1.3 IPv4-address-literal) or IPv6 text (RFC 4291 §2.2,
  // "::" compression, trailing dotted IPv4). A zone suffix ("%eth0") is ignored.
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_loopback() const;
  bool is_unspecified() const;  // 0.0.0.0 or ::
  std::string str() const;      // canonical text: dotted quad, or RFC 5952 IPv6
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// The address of an address-literal recipient domain, or nullopt when `domain` is not a
// well-formed literal. "[a.b.c.d]" → IPv4; "[IPv6:...]" (tag case-insensitive) → IPv6; any other
// General-address-literal tag is not deliverable and yields nullopt.
std::optional<IpAddr> parse_address_literal(std::string_view domain);

// True when `domain` is bracketed, i.e. meant as an address literal (well-formed or not).
inline bool looks_like_address_literal(std::string_view domain) {
  return !domain.empty() && domain.front() == '[';
}

}  // namespace ferry::delivery
