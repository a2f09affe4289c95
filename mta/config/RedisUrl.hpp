// RedisUrl: the [cluster] redis address — redis://host:port/db or unix:/path?db=N — as plain data.
// Contract: pure; a password in the URL is refused (it belongs in password_file, which is read
// with the care of a secret file and never shows in check-config); db is 0..15 by default range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/Result.hpp"

namespace ferry::config {

struct RedisEndpoint {
  bool is_unix = false;
  std::string host = "127.0.0.1";  // TCP: a host name or address (IPv6 without brackets)
  std::uint16_t port = 6379;
  std::string path;  // unix: the socket's path
  int db = 0;
  bool operator==(const RedisEndpoint&) const = default;
  // "127.0.0.1:6379" or the socket path; for log lines.
  std::string where() const;
};

// nullopt-like failure: the error's message says what is wrong with `text`.
Result<RedisEndpoint, std::string> parse_redis_url(std::string_view text);

}  // namespace ferry::config
