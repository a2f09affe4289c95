// RedisUrl: see RedisUrl.hpp.
#include "mta/config/RedisUrl.hpp"

#include <charconv>

namespace ferry::config {
namespace {

// Redis numbers its databases from 0; a server's `databases` setting defaults to 16 but may be
// raised, so the bound is generous and only keeps the number sane.
constexpr int kMaxDb = 1000;

bool parse_number(std::string_view s, long max, long& out) {
  if (s.empty() || s.size() > 6) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0 && out <= max;
}

bool printable_path(std::string_view s) {
  for (unsigned char ch : s)
    if (ch <= 0x20 || ch == 0x7f) return false;
  return true;
}

Result<RedisEndpoint, std::string> parse_unix(std::string_view rest) {
  RedisEndpoint e;
  e.is_unix = true;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    const std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    long db = 0;
    if (query.substr(0, 3) != "db=" || !parse_number(query.substr(3), kMaxDb, db))
      return std::string("only ?db=N may follow a unix socket path");
    e.db = static_cast<int>(db);
  }
  if (rest.empty() || rest.front() != '/') return std::string("a unix socket path must be absolute");
  if (rest.size() > 107) return std::string("a unix socket path has at most 107 bytes");
  if (!printable_path(rest)) return std::string("a socket path has no spaces or control characters");
  e.path = std::string(rest);
  return e;
}

Result<RedisEndpoint, std::string> parse_tcp(std::string_view rest) {
  RedisEndpoint e;
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos)
    return std::string("a password in the URL is refused: put it in cluster.password_file");
  if (authority.size() < rest.size()) {
    long db = 0;
    const std::string_view path = rest.substr(authority.size() + 1);
    if (!path.empty() && !parse_number(path, kMaxDb, db))
      return std::string("the database must be a number after the last /");
    e.db = static_cast<int>(db);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("unclosed [ in the host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::string("expected :port after ]");
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host.size() > 253 || !printable_path(host)) return std::string("a host is required");
  e.host = std::string(host);
  if (!port.empty()) {
    long p = 0;
    if (!parse_number(port, 65535, p) || p == 0) return std::string("invalid port (1..65535)");
    e.port = static_cast<std::uint16_t>(p);
  }
  return e;
}

}  // namespace

std::string RedisEndpoint::where() const {
  if (is_unix) return path;
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisEndpoint, std::string> parse_redis_url(std::string_view text) {
  if (text.rfind("redis://", 0) == 0) return parse_tcp(text.substr(8));
  if (text.rfind("unix:", 0) == 0) return parse_unix(text.substr(5));
  if (text.rfind("rediss://", 0) == 0)
    return std::string(
        "TLS (rediss://) is not supported by this build's Redis client (hiredis 0.14): put stunnel or spiped "
        "in front, or use a unix: socket");
  return std::string("expected redis://host:port/db or unix:/path/to/redis.sock");
}

}  // namespace ferry::config
