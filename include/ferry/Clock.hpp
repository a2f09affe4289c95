// Clock: the one time vocabulary. Stored times are Unix milliseconds (UTC).
// Contract: no clock is read here: pure code takes a TimeMs argument; the system clock is read
// only where I/O happens (mta/ops/SystemClock.hpp for the daemon and the CLI, the queue's own
// id allocator).
#pragma once

#include <cstdint>

namespace ferry {

using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, UTC

}  // namespace ferry
