// AddressLiteral: SMTP address literals "[192.0.2.1]", "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3) as
// delivery targets. Contract: pure; strict parsing through text::IpAddress; equal addresses compare
// equal whatever their spelling ("::1" == "0:0:0:0:0:0:0:1", "::ffff:192.0.2.1" == "192.0.2.1").
#pragma once

#include <optional>
#include <string_view>

#include "ferry/text/IpAddress.hpp"

namespace ferry::delivery {

// An address delivery connects to; .str() is the canonical text used in targets and logs.
using IpAddr = text::IpAddress;

// The address of an address-literal recipient domain, or nullopt when `domain` is not a
// well-formed literal. "[a.b.c.d]" → IPv4; "[IPv6:...]" (tag case-insensitive) → IPv6; any other
// General-address-literal tag is not deliverable and yields nullopt.
std::optional<IpAddr> parse_address_literal(std::string_view domain);

// True when `domain` is bracketed, i.e. meant as an address literal (well-formed or not).
inline bool looks_like_address_literal(std::string_view domain) {
  return !domain.empty() && domain.front() == '[';
}

}  // namespace ferry::delivery
