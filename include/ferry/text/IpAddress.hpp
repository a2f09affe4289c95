// IpAddress: the one parser and printer of IP address text (IPv4 dotted quad, IPv6 RFC 4291 §2.2).
// Contract: pure, std only, header-only; IPv4 octets are 0..255 in decimal WITHOUT leading zeros
// ("010.0.0.1" is refused: some stacks read it as octal 8.0.0.1); IPv4 is held as ::ffff:a.b.c.d.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::text {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 stored as ::ffff:a.b.c.d
  bool v4 = false;                       // IPv4 text, or an IPv4-mapped IPv6 address

  // "a.b.c.d": RFC 5321 §4.1.3 Snum is 1*3DIGIT of value 0..255; leading zeros refused (see above).
  static std::optional<IpAddress> parse_v4(std::string_view text);
  // RFC 4291 §2.2: eight groups of 1..4 hex digits, one "::" standing for at least one zero group,
  // optionally ending in a dotted quad (same rule as parse_v4). No zone suffix.
  static std::optional<IpAddress> parse_v6(std::string_view text);
  // Either form (IPv6 when the text has a ':'); no zone suffix.
  static std::optional<IpAddress> parse(std::string_view text);
  // As parse, but an IPv6 zone ("fe80::1%eth0", as socket peers print link-local) is ignored.
  static std::optional<IpAddress> parse_scoped(std::string_view text);

  bool is_v4_mapped() const;
  bool is_loopback() const;     // 127/8 or ::1
  bool is_unspecified() const;  // 0.0.0.0 or ::
  // Canonical text: the dotted quad for IPv4 (and IPv4-mapped), else str_v6().
  std::string str() const;
  // RFC 5952 §4 IPv6 text (lower-case hex, no leading zeros, the first longest run of two or
  // more zero groups as "::"), with a dotted tail for ::ffff:a.b.c.d and ::a.b.c.d as inet_ntop
  // writes them, so configured addresses print as before.
  std::string str_v6() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

namespace detail {

inline std::optional<std::array<std::uint8_t, 4>> parse_dotted_quad(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
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

inline int ip_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The groups of IPv6 text in written order, with the index where "::" sits (-1: none).
struct Ipv6Groups {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;
};

// One hex group (1..4 digits) or, last, a dotted quad counting as two groups.
inline bool add_ipv6_token(Ipv6Groups& g, std::string_view token, bool last) {
  if (token.find('.') != std::string_view::npos) {
    if (!last || g.count > 6) return false;
    auto quad = parse_dotted_quad(token);
    if (!quad) return false;
    g.groups[g.count++] = static_cast<std::uint16_t>((*quad)[0] << 8 | (*quad)[1]);
    g.groups[g.count++] = static_cast<std::uint16_t>((*quad)[2] << 8 | (*quad)[3]);
    return true;
  }
  if (token.empty() || token.size() > 4 || g.count >= 8) return false;
  unsigned v = 0;
  for (char c : token) {
    const int h = ip_hex_value(c);
    if (h < 0) return false;
    v = v * 16 + static_cast<unsigned>(h);
  }
  g.groups[g.count++] = static_cast<std::uint16_t>(v);
  return true;
}

inline std::optional<Ipv6Groups> split_ipv6(std::string_view s) {
  Ipv6Groups g;
  std::size_t pos = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    g.gap = 0;
    pos = 2;
    if (pos == s.size()) return g;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (pos < s.size()) {
    const std::size_t colon = s.find(':', pos);
    const std::string_view token = s.substr(pos, colon == std::string_view::npos ? s.npos : colon - pos);
    if (!add_ipv6_token(g, token, colon == std::string_view::npos)) return std::nullopt;
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
    if (pos < s.size() && s[pos] == ':') {
      if (g.gap >= 0) return std::nullopt;  // at most one "::"
      g.gap = g.count;
      ++pos;
    } else if (pos == s.size()) {
      return std::nullopt;  // a trailing single ':'
    }
  }
  if (g.gap < 0 ? g.count != 8 : g.count > 7) return std::nullopt;  // "::" stands for >= 1 group
  return g;
}

}  // namespace detail

inline std::optional<IpAddress> IpAddress::parse_v4(std::string_view text) {
  auto quad = detail::parse_dotted_quad(text);
  if (!quad) return std::nullopt;
  IpAddress ip;
  ip.v4 = true;
  ip.bytes[10] = ip.bytes[11] = 0xFF;
  for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = (*quad)[i];
  return ip;
}

inline std::optional<IpAddress> IpAddress::parse_v6(std::string_view text) {
  auto g = detail::split_ipv6(text);
  if (!g) return std::nullopt;
  std::array<std::uint16_t, 8> full{};
  if (g->gap < 0) {
    full = g->groups;
  } else {
    const int tail = g->count - g->gap;
    for (int i = 0; i < g->gap; ++i) full[i] = g->groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = g->groups[g->gap + i];
  }
  IpAddress ip;
  for (int i = 0; i < 8; ++i) {
    ip.bytes[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<std::uint8_t>(full[i] & 0xFF);
  }
  ip.v4 = ip.is_v4_mapped();
  return ip;
}

inline std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  return text.find(':') != std::string_view::npos ? parse_v6(text) : parse_v4(text);
}

inline std::optional<IpAddress> IpAddress::parse_scoped(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return parse_v4(text);
  if (const auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  return parse_v6(text);
}

inline bool IpAddress::is_v4_mapped() const {
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0) return false;
  return bytes[10] == 0xFF && bytes[11] == 0xFF;
}

inline bool IpAddress::is_loopback() const {
  if (v4) return bytes[12] == 127;
  for (int i = 0; i < 15; ++i)
    if (bytes[i] != 0) return false;
  return bytes[15] == 1;
}

inline bool IpAddress::is_unspecified() const {
  const int from = v4 ? 12 : 0;
  for (int i = from; i < 16; ++i)
    if (bytes[i] != 0) return false;
  return true;
}

inline std::string IpAddress::str() const {
  if (!v4) return str_v6();
  std::string out;
  for (int i = 12; i < 16; ++i) {
    if (i > 12) out += '.';
    out += std::to_string(bytes[i]);
  }
  return out;
}

inline std::string IpAddress::str_v6() const {
  std::array<unsigned, 8> g{};
  for (int i = 0; i < 8; ++i) g[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  if (best_len < 2) best = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    // A dotted tail for ::a.b.c.d and ::ffff:a.b.c.d, as inet_ntop(3) prints them.
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && g[5] == 0xFFFF))) {
      IpAddress tail = *this;
      tail.v4 = true;
      if (out.back() != ':') out += ':';
      return out + tail.str();
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (g[i] >> shift) & 0xF;
      if (d == 0 && !started && shift > 0) continue;
      started = true;
      out += kHex[d];
    }
  }
  return out;
}

}  // namespace ferry::text
