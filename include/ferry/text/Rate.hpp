// Rate: "count/unit" sending rates ("10/s", "600/min", "20000/h", "1000/d") as messages per
// second. Contract: pure, std only, header-only; strict (nullopt for anything malformed, a zero
// count, or more than a billion per unit).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::text {

inline std::optional<double> parse_rate(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::uint64_t count = 0;
  const char* last = text.data() + slash;
  auto [end, ec] = std::from_chars(text.data(), last, count);
  if (ec != std::errc() || end != last || count == 0 || count > 1'000'000'000) return std::nullopt;
  const std::string_view unit = text.substr(slash + 1);
  double seconds = 0;
  if (unit == "s")
    seconds = 1;
  else if (unit == "min")
    seconds = 60;
  else if (unit == "h")
    seconds = 3600;
  else if (unit == "d")
    seconds = 86400;
  else
    return std::nullopt;
  return static_cast<double>(count) / seconds;
}

// For people and logs: "10/s", "2.5/s", "30/min" (under one a second); "unlimited" for 0.
inline std::string format_rate(double per_second) {
  if (!(per_second > 0)) return "unlimited";
  char buf[64];
  if (per_second >= 1 || per_second * 60 < 1)
    std::snprintf(buf, sizeof buf, "%.3g/s", per_second);
  else
    std::snprintf(buf, sizeof buf, "%.3g/min", per_second * 60);
  return buf;
}

}  // namespace ferry::text
