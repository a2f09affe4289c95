// SystemClock: the wall clock as the vocabulary's TimeMs, for the daemon and the CLI.
// Contract: the only reader of the system clock outside queue/; pure modules never include it
// (they take the time as an argument, so tests can choose it).
#pragma once

#include <chrono>

#include "ferry/Clock.hpp"

namespace ferry {

inline TimeMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace ferry
