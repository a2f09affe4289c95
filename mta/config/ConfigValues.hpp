// ConfigValues: the value grammars of conf/ferry.toml (IPs, socket addresses, domains, addresses).
// Contract: pure string checks shared by the loader and the renderer; std only, no toml++.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mta/config/Config.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::config::detail {

// Canonical text of an IPv4 or IPv6 literal (no brackets), or nullopt.
std::optional<std::string> canonical_ip(std::string_view text);

// "ip", "ip:port", "[ipv6]", "[ipv6]:port" or a bare IPv6 literal. A missing port takes
// `default_port`, or is an error when that is nullopt. Port 0 ("any free port", for tests) is
// accepted only with `allow_port_zero`. Returns the value or an error message.
Result<SocketAddress, std::string> parse_socket_address(std::string_view text,
                                                        std::optional<std::uint16_t> default_port,
                                                        bool allow_port_zero = false);

// A CIDR or an error message (bad syntax, prefix out of range, host bits set).
Result<Cidr, std::string> parse_cidr_checked(std::string_view text);

// RFC 1035 §2.3.1 host name (letters, digits, hyphens; labels of 1..63; at most 253 in all).
bool is_domain(std::string_view text);

// local@domain with a non-empty local part without spaces, and a domain (or [ip] literal).
bool is_mail_address(std::string_view text);

using text::to_lower;  // ASCII only: a locale never folds other bytes

// "\"text\"" for error messages. Avoids "literal" + std::string(...), which trips a GCC 12
// -Wrestrict false positive.
std::string quoted(std::string_view text);

// Text renderings used by render(): "5m", "250ms", "0s"; "25MiB" (or a plain byte count).
std::string format_duration(Duration d);
std::string format_size_string(std::uint64_t bytes);  // empty when no binary unit divides exactly
std::string format_double(double v);                  // always a TOML float ("2.0", "0.1")

}  // namespace ferry::config::detail
