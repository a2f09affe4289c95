// GrantWindow: the recent grants to one destination, for the rate actually sent (the base of a
// back-off when no rate is configured).
// Contract: pure (time is an argument); bounded by a window of time and a count.
#pragma once

#include <cstddef>
#include <deque>

#include "ferry/Clock.hpp"

namespace ferry::delivery {

class GrantWindow {
 public:
  void record(TimeMs now);
  // Messages per second over the window (at least one second long); 1.0 when nothing was sent.
  double rate(TimeMs now) const;

  static constexpr TimeMs kWindowMs = 10'000;
  static constexpr std::size_t kMax = 4096;

 private:
  std::deque<TimeMs> grants_;
};

}  // namespace ferry::delivery
