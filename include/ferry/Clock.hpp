// Clock: the one time vocabulary. Stored times are Unix milliseconds (UTC).
// Contract: pure code takes a TimeMs argument; only the daemon and CLI read the system clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace ferry {

using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, UTC

inline TimeMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace ferry
