// Signature: the webhook's X-Ferry-Signature header, "t=<unix seconds>,v1=<hex HMAC-SHA256>",
// where the MAC covers "<t>.<body>" (RFC 2104 HMAC, FIPS 180-4 SHA-256).
// Contract: pure (libcrypto only); the time is an argument; verification compares in constant
// time and refuses a timestamp outside the tolerance (a replayed old request).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::events {

inline constexpr std::string_view kSignatureHeader = "X-Ferry-Signature";

std::string hmac_sha256_hex(std::string_view key, std::string_view data);

std::string sign_body(std::string_view key, std::int64_t unix_seconds, std::string_view body);

// For receivers and tests: true iff `header` is a valid signature of `body` under `key`, made
// within `tolerance_seconds` of `now_unix_seconds`.
bool verify_body(std::string_view key, std::string_view header, std::string_view body,
                 std::int64_t now_unix_seconds, std::int64_t tolerance_seconds);

}  // namespace ferry::events
