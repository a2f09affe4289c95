// Xtext: the RFC 3461 §4 "xtext" encoding used by ENVID and ORCPT.
// Contract: decode rejects malformed input (bad "+HH", octets outside 33..126, literal '=');
// encode writes '+', '=' and octets outside 33..126 as "+HH" with upper-case hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::smtp {

// RFC 3461 §4: xtext = *( xchar / hexchar ); xchar = %d33-42 / %d44-60 / %d62-126;
// hexchar = "+" 2(%x30-39 / %x41-46). Lower-case hex is tolerated on input.
std::optional<std::string> xtext_decode(std::string_view text);
bool xtext_valid(std::string_view text);
std::string xtext_encode(std::string_view raw);

}  // namespace ferry::smtp
