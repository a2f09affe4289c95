// ConfigValues: durations, sizes, CIDRs, socket addresses and the small helpers of Config.hpp.
#include "mta/config/ConfigValues.hpp"

#include "ferry/text/IpAddress.hpp"

#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>

namespace ferry::config {
namespace {

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

using text::iequals;

}  // namespace

// ---- Config.hpp helpers ------------------------------------------------------------------

std::string_view to_string(ListenMode m) {
  switch (m) {
    case ListenMode::Relay:
      return "relay";
    case ListenMode::Submission:
      return "submission";
    case ListenMode::Submissions:
      return "submissions";
  }
  return "relay";
}
std::string_view to_string(BareNewline b) { return b == BareNewline::Reject ? "reject" : "normalize"; }
std::string_view to_string(RouteTls t) {
  switch (t) {
    case RouteTls::Opportunistic:
      return "opportunistic";
    case RouteTls::Required:
      return "required";
    case RouteTls::Verify:
      return "verify";
  }
  return "opportunistic";
}
std::string_view to_string(LogFormat f) { return f == LogFormat::Json ? "json" : "text"; }

std::string ConfigError::str() const {
  std::string out;
  if (!file.empty()) out += file + ":";
  if (line > 0) {
    out += std::to_string(line) + ":";
    if (column > 0) out += std::to_string(column) + ":";
  }
  if (!out.empty()) out += " ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

std::string SocketAddress::str() const {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::string effective_hostname(const Config& cfg, std::string_view system_host_name) {
  return cfg.hostname.empty() ? std::string(system_host_name) : cfg.hostname;
}

std::string effective_node_name(const ClusterSection& cluster, std::string_view system_host_name) {
  if (!cluster.node_name.empty()) return cluster.node_name;
  // The host name names the node's Redis key: kept to the characters node_name allows.
  std::string name;
  for (char ch : system_host_name.substr(0, 64))
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_') name += ch;
  return name.empty() ? "localhost" : name;
}

std::string effective_maildrop(const Config& cfg) {
  if (!cfg.queue.maildrop.empty()) return cfg.queue.maildrop;
  std::string path = cfg.queue.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "maildrop" : path.substr(0, slash + 1) + "maildrop";
}

std::vector<std::string> effective_local_domains(const Config& cfg, std::string_view system_host_name) {
  if (!cfg.relay.local_domains.empty()) return cfg.relay.local_domains;
  // The host name first: a bare "Postmaster" (RFC 5321 §4.5.1) is qualified with the first local
  // domain, and postmaster@<hostname> is the one that means this machine to the rest of the world.
  std::vector<std::string> out;
  const std::string host = detail::to_lower(effective_hostname(cfg, system_host_name));
  if (!host.empty() && host != "localhost") out.push_back(host);
  out.push_back("localhost");
  return out;
}

const std::vector<Cidr>& effective_relay_networks(const Config& cfg, const Listener& listener) {
  return listener.relay_networks ? *listener.relay_networks : cfg.relay.networks;
}

std::optional<Duration> parse_duration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  auto n = parse_uint(text.substr(0, i));
  if (!n) return std::nullopt;
  const std::string_view unit = text.substr(i);
  std::int64_t ms_per = 0;
  if (unit.empty() || unit == "s")
    ms_per = 1000;  // a bare number is seconds
  else if (unit == "ms")
    ms_per = 1;
  else if (unit == "m")
    ms_per = 60'000;
  else if (unit == "h")
    ms_per = 3'600'000;
  else if (unit == "d")
    ms_per = 86'400'000;
  else
    return std::nullopt;
  if (*n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / ms_per)) return std::nullopt;
  return Duration(static_cast<std::int64_t>(*n) * ms_per);
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  auto n = parse_uint(text.substr(0, i));
  if (!n) return std::nullopt;
  const std::string_view unit = text.substr(i);
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1000},
      {"MB", 1000'000},
      {"GB", 1000'000'000},
      {"TB", 1000'000'000'000},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40},
  };
  for (const auto& [name, mult] : kUnits) {
    if (!iequals(unit, name)) continue;
    if (*n > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
    return *n * mult;
  }
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto r = detail::parse_cidr_checked(text);
  if (r) return *r;
  return std::nullopt;
}

namespace detail {

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out.append(s);
  out += '"';
  return out;
}

std::optional<std::string> canonical_ip(std::string_view text) {
  auto ip = text::IpAddress::parse(text);
  if (!ip) return std::nullopt;
  // Written as IPv6 stays IPv6 ("::ffff:127.0.0.1" binds an IPv6 socket), as IPv4 stays IPv4.
  return text.find(':') != std::string_view::npos ? ip->str_v6() : ip->str();
}

Result<SocketAddress, std::string> parse_socket_address(std::string_view text,
                                                        std::optional<std::uint16_t> default_port,
                                                        bool allow_port_zero) {
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::string("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::string("expected ':PORT' after ']'");
      port_text = rest.substr(1);
    }
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // exactly one colon: IPv4:port (a bare IPv6 has several)
    port_text = text.substr(colon + 1);
  }
  auto ip = canonical_ip(host);
  if (!ip) return quoted(host) + " is not an IP address";
  SocketAddress out;
  out.ip = *ip;
  if (port_text) {
    auto p = parse_uint(*port_text);
    if (!p || (*p == 0 && !allow_port_zero) || *p > 65535)
      return "invalid port \"" + std::string(*port_text) + "\" (" + (allow_port_zero ? "0" : "1") +
             "..65535)";
    out.port = static_cast<std::uint16_t>(*p);
  } else if (default_port) {
    out.port = *default_port;
  } else {
    return std::string("missing port (use IP:PORT or [IPv6]:PORT)");
  }
  return out;
}

Result<Cidr, std::string> parse_cidr_checked(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  auto ip = text::IpAddress::parse(addr);
  if (!ip) return quoted(text) + " is not a CIDR (e.g. 192.0.2.0/24 or 2001:db8::/32)";
  const bool v4 = addr.find(':') == std::string_view::npos;  // the family written
  const unsigned max_prefix = v4 ? 32 : 128;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    auto p = parse_uint(text.substr(slash + 1));
    if (!p || *p > max_prefix)
      return "invalid prefix length in \"" + std::string(text) + "\" (0.." + std::to_string(max_prefix) + ")";
    prefix = static_cast<unsigned>(*p);
  }
  const Cidr c = Cidr::of(*ip, prefix, v4);
  if (c.network() != *ip) return quoted(text) + " has host bits set (did you mean " + c.str() + "?)";
  return c;
}

bool is_domain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch == '.') {
      if (label == 0 || text[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(ch) && ch != '-') return false;
    if (ch == '-' && label == 0) return false;
    if (++label > 63) return false;
  }
  return label > 0 && text.back() != '-';
}

bool is_mail_address(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  for (char ch : text.substr(0, at))
    if (std::isspace(static_cast<unsigned char>(ch)) || std::iscntrl(static_cast<unsigned char>(ch)) ||
        ch == '<' || ch == '>')
      return false;
  const std::string_view domain = text.substr(at + 1);
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']')
    return canonical_ip(domain.substr(1, domain.size() - 2)).has_value();
  return is_domain(domain);
}

std::string format_duration(Duration d) {
  const std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  static constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [per, name] : kUnits)
    if (ms % per == 0) return std::to_string(ms / per) + name;
  return std::to_string(ms) + "ms";
}

std::string format_size_string(std::uint64_t bytes) {
  if (bytes == 0) return {};
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const auto& [per, name] : kUnits)
    if (bytes % per == 0) return std::to_string(bytes / per) + name;
  return {};
}

std::string format_double(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? p : buf);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // TOML floats need '.' or 'e'
  return s;
}

}  // namespace detail
}  // namespace ferry::config
