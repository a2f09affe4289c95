// UnreachableHosts: the "unreachable until" memory of hosts that failed to connect or answer
// (RFC 5321 §4.5.4.1 SHOULD). Contract: pure (time is an argument); keys are host names or IPs
// as the daemon chooses; 5yz replies are never remembered here (§4.5.4.1 MUST NOT cache them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ferry/Clock.hpp"

namespace ferry::delivery {

// The daemon marks a target after a connect failure, timeout or 421 greeting, and skips marked
// targets while walking an MX plan, so one dead MX does not stall every queued message. When all
// targets of a plan are marked, the attempt is a transient HostsUnreachable without connecting.
class UnreachableHosts {
 public:
  // Remembers `key` as unreachable until `until_ms` (a later mark extends, never shortens).
  void mark(std::string_view key, TimeMs until_ms);
  void clear(std::string_view key);
  void clear_all() { until_.clear(); }
  bool is_unreachable(std::string_view key, TimeMs now_ms) const;
  // When `key` may be tried again; 0 when it is not marked.
  TimeMs until(std::string_view key) const;
  // Forgets entries that have passed; returns how many.
  std::size_t purge(TimeMs now_ms);
  std::size_t size() const noexcept { return until_.size(); }

 private:
  std::unordered_map<std::string, TimeMs> until_;
};

}  // namespace ferry::delivery
