// Xtext: the RFC 3461 §4 "xtext" encoding of ENVID, ORCPT and AUTH= values, decoded and encoded.
// Contract: pure, std only, header-only; decode is strict about structure (nullopt on any
// malformed input, never a partial result) but reads hex digits of either case; encode writes '+',
// '=' and octets outside 33..126 as "+HH" in upper-case hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::text {

// RFC 3461 §4: xtext = *( xchar / hexchar ); xchar = %d33-42 / %d44-60 / %d62-126 (printable
// US-ASCII but '+' and '='); hexchar = "+" 2(%x30-39 / %x41-46). The RFC's hex is upper case,
// but lower case is read too (RFC 1123 §1.2.2: be liberal in what you accept; the server always
// accepted it and refusing it now would refuse mail from clients that worked). Returns the
// decoded octets, or nullopt when a '+' is not followed by two hex digits, or an octet is outside
// 33..126, or is '='. "" decodes to "".
std::optional<std::string> xtext_decode(std::string_view text);
bool xtext_valid(std::string_view text);
std::string xtext_encode(std::string_view raw);

namespace detail {
inline int xtext_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // liberal: see xtext_decode
  return -1;
}
}  // namespace detail

inline std::optional<std::string> xtext_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (text.size() - i < 3) return std::nullopt;
      const int hi = detail::xtext_hex_value(text[i + 1]);
      const int lo = detail::xtext_hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return std::nullopt;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

inline bool xtext_valid(std::string_view text) { return xtext_decode(text).has_value(); }

inline std::string xtext_encode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

}  // namespace ferry::text
