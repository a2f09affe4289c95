// AddressLiteral: hand-written strict IPv4/IPv6 parsing (no inet_pton: sans-IO, no libc sockets).
#include "mta/delivery/AddressLiteral.hpp"
#include "ferry/text/Ascii.hpp"

#include <cstdio>

namespace ferry::delivery {
namespace {

using text::iequals;

// "a.b.c.d", each 0..255 in decimal without leading zeros (RFC 5321 §4.1.3 Snum is 1*3DIGIT; we
// refuse leading zeros because some stacks read them as octal).
std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    std::size_t start = pos;
    unsigned value = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    const std::size_t len = pos - start;
    if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return std::nullopt;
    out[part] = static_cast<std::uint8_t>(value);
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;  // index in `groups` where "::" sits
  std::size_t pos = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    pos = 2;
    if (pos == s.size()) return std::array<std::uint8_t, 16>{};
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (pos < s.size()) {
    // A trailing dotted IPv4 counts as two groups.
    const std::size_t next_colon = s.find(':', pos);
    const std::string_view token = s.substr(pos, next_colon == std::string_view::npos ? std::string_view::npos
                                                                                     : next_colon - pos);
    if (token.find('.') != std::string_view::npos) {
      if (next_colon != std::string_view::npos || count > 6) return std::nullopt;
      auto v4 = parse_v4(token);
      if (!v4) return std::nullopt;
      groups[count++] = static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]);
      groups[count++] = static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]);
      pos = s.size();
      break;
    }
    if (token.empty() || token.size() > 4 || count >= 8) return std::nullopt;
    unsigned v = 0;
    for (char c : token) {
      const int h = hex_value(c);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(h);
    }
    groups[count++] = static_cast<std::uint16_t>(v);
    pos += token.size();
    if (pos == s.size()) break;
    // pos is at ':'
    if (pos + 1 < s.size() && s[pos + 1] == ':') {
      if (gap >= 0) return std::nullopt;  // at most one "::"
      gap = count;
      pos += 2;
      if (pos == s.size()) break;
    } else {
      ++pos;
      if (pos == s.size()) return std::nullopt;  // trailing single ':'
    }
  }
  if (gap < 0 && count != 8) return std::nullopt;
  if (gap >= 0 && count > 7) return std::nullopt;  // "::" must stand for at least one group
  std::array<std::uint16_t, 8> full{};
  if (gap < 0) {
    full = groups;
  } else {
    const int tail = count - gap;
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
  }
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(full[i] & 0xFF);
  }
  return out;
}

bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return false;
  return b[10] == 0xFF && b[11] == 0xFF;
}

}  // namespace

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  IpAddr ip;
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(text);
    if (!v4) return std::nullopt;
    ip.bytes[10] = ip.bytes[11] = 0xFF;
    for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = (*v4)[i];
    ip.v6 = false;
    return ip;
  }
  if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  auto v6 = parse_v6(text);
  if (!v6) return std::nullopt;
  ip.bytes = *v6;
  ip.v6 = !is_v4_mapped(ip.bytes);
  return ip;
}

bool IpAddr::is_loopback() const {
  if (!v6) return bytes[12] == 127;
  for (int i = 0; i < 15; ++i)
    if (bytes[i] != 0) return false;
  return bytes[15] == 1;
}

bool IpAddr::is_unspecified() const {
  if (!v6) return bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string IpAddr::str() const {
  char buf[64];
  if (!v6) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
    return buf;
  }
  // RFC 5952 §4: lower-case hex, leading zeros dropped, the longest run (>= 2) of zero groups as "::".
  std::array<unsigned, 8> g{};
  for (int i = 0; i < 8; ++i) g[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) { best = i; best_len = j - i; }
    i = j;
  }
  if (best_len < 2) best = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

std::optional<IpAddr> parse_address_literal(std::string_view domain) {
  if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
  const std::string_view inner = domain.substr(1, domain.size() - 2);
  // RFC 5321 §4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr.
  if (inner.size() > 5 && iequals(inner.substr(0, 5), "IPv6:")) {
    const std::string_view text = inner.substr(5);
    if (text.find(':') == std::string_view::npos || text.find('%') != std::string_view::npos)
      return std::nullopt;  // IPv6-addr text only, no zone
    auto ip = IpAddr::parse(text);
    if (!ip) return std::nullopt;
    return ip;
  }
  if (inner.find(':') != std::string_view::npos) return std::nullopt;  // other tags: undeliverable
  return IpAddr::parse(inner);
}

}  // namespace ferry::delivery
