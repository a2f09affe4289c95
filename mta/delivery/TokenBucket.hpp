// TokenBucket: a rate of `rate` tokens per second with room for `burst` of them.
// Contract: pure (time is an argument, never read); starts full; times never go backwards
// inside it (an earlier `now` counts as the last one seen).
#pragma once

#include "ferry/Clock.hpp"

namespace ferry::delivery {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, TimeMs now);

  // Takes one token when one is there.
  bool try_take(TimeMs now);
  // When the next token is there (<= now: one is there now).
  TimeMs next_token_at(TimeMs now);
  // A new rate and burst from `now` on; the tokens earned so far at the old rate are kept
  // (at most the new burst).
  void set_rate(double rate_per_second, double burst, TimeMs now);

  // No token left from `now` (after "slow down" nothing goes out in a burst).
  void drain(TimeMs now);

  double rate() const noexcept { return rate_; }
  double burst() const noexcept { return burst_; }

 private:
  void refill(TimeMs now);

  double rate_;
  double burst_;
  double tokens_;
  TimeMs last_;
};

}  // namespace ferry::delivery
