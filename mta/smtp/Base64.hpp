// Base64: RFC 4648 §4 base64 for the SASL exchanges of AUTH (RFC 4954 §4).
// Contract: decode is strict (padding required, no whitespace); returns nullopt when malformed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::smtp {

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ferry::smtp
