#include "mta/smtp/IpAddress.hpp"

#include <vector>

namespace ferry::smtp {

namespace {

std::optional<std::array<std::uint8_t, 4>> parse_quad(std::string_view text) {
  std::array<std::uint8_t, 4> out{};
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    unsigned v = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
      if (++digits > 3) return std::nullopt;
    }
    if (digits == 0 || v > 255) return std::nullopt;
    out[part] = static_cast<std::uint8_t>(v);
  }
  if (i != text.size()) return std::nullopt;
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse_v4(std::string_view text) {
  auto quad = parse_quad(text);
  if (!quad) return std::nullopt;
  IpAddress ip;
  ip.v4 = true;
  ip.bytes[10] = 0xFF;
  ip.bytes[11] = 0xFF;
  for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = (*quad)[i];
  return ip;
}

std::optional<IpAddress> IpAddress::parse_v6(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  // Split into groups around an optional "::".
  std::vector<std::uint16_t> head, tail;
  bool compressed = false;
  std::size_t i = 0;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  } else if (text[0] == ':') {
    return std::nullopt;
  }
  std::optional<std::array<std::uint8_t, 4>> embedded_v4;
  while (i < text.size()) {
    // One group (hex) or a trailing dotted IPv4.
    std::size_t end = text.find(':', i);
    std::string_view group = text.substr(i, end == std::string_view::npos ? text.size() - i : end - i);
    auto& groups = compressed ? tail : head;
    if (group.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos) return std::nullopt;  // IPv4 only at the end
      embedded_v4 = parse_quad(group);
      if (!embedded_v4) return std::nullopt;
      i = text.size();
      break;
    }
    if (group.empty() || group.size() > 4) return std::nullopt;
    unsigned v = 0;
    for (char c : group) {
      const int d = hex_digit(c);
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(d);
    }
    groups.push_back(static_cast<std::uint16_t>(v));
    if (end == std::string_view::npos) {
      i = text.size();
      break;
    }
    i = end + 1;
    if (i < text.size() && text[i] == ':') {
      if (compressed) return std::nullopt;  // a second "::"
      compressed = true;
      ++i;
    } else if (i == text.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  const std::size_t words = head.size() + tail.size() + (embedded_v4 ? 2 : 0);
  if (compressed ? words > 7 : words != 8) return std::nullopt;
  IpAddress ip;
  std::size_t k = 0;
  for (auto w : head) {
    ip.bytes[k++] = static_cast<std::uint8_t>(w >> 8);
    ip.bytes[k++] = static_cast<std::uint8_t>(w & 0xFF);
  }
  k = 16 - (tail.size() * 2) - (embedded_v4 ? 4 : 0);
  for (auto w : tail) {
    ip.bytes[k++] = static_cast<std::uint8_t>(w >> 8);
    ip.bytes[k++] = static_cast<std::uint8_t>(w & 0xFF);
  }
  if (embedded_v4)
    for (int b = 0; b < 4; ++b) ip.bytes[12 + b] = (*embedded_v4)[b];
  ip.v4 = ip.is_v4_mapped();
  return ip;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    const auto pct = text.find('%');
    if (pct != std::string_view::npos) text = text.substr(0, pct);
    return parse_v6(text);
  }
  return parse_v4(text);
}

bool IpAddress::is_v4_mapped() const {
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0) return false;
  return bytes[10] == 0xFF && bytes[11] == 0xFF;
}

}  // namespace ferry::smtp
