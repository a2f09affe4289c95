// RetrySchedule: exponential backoff with jitter, clamped to the message's lifetime.
#include "mta/delivery/RetrySchedule.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::delivery {

RetrySchedule::RetrySchedule(RetryPolicy policy) : policy_(policy) {}

TimeMs RetrySchedule::base_interval(std::uint32_t attempts_so_far) const {
  if (attempts_so_far == 0) return 0;
  const double cap = static_cast<double>(std::max(policy_.max_interval_ms, policy_.min_interval_ms));
  double interval = static_cast<double>(policy_.first_ms);
  const double mult = policy_.multiplier < 1.0 ? 1.0 : policy_.multiplier;
  // Multiply step by step so a large attempt count cannot overflow: stop at the cap.
  for (std::uint32_t i = 1; i < attempts_so_far && interval < cap; ++i) interval *= mult;
  interval = std::min(interval, cap);
  return std::max(static_cast<TimeMs>(interval), policy_.min_interval_ms);
}

TimeMs RetrySchedule::expires_at(TimeMs arrival_ms) const { return arrival_ms + policy_.max_age_ms; }

bool RetrySchedule::expired(TimeMs arrival_ms, TimeMs now_ms) const {
  return now_ms >= expires_at(arrival_ms);
}

std::optional<TimeMs> RetrySchedule::next_attempt(TimeMs arrival_ms, std::uint32_t attempts_so_far,
                                                  TimeMs now_ms, const RandomSource& rand) const {
  if (expired(arrival_ms, now_ms)) return std::nullopt;
  if (attempts_so_far == 0) return now_ms;
  TimeMs interval = base_interval(attempts_so_far);
  const double j = std::clamp(policy_.jitter, 0.0, 1.0);
  if (j > 0.0 && rand) {
    // Uniform in [1 − j, 1 + j): spreads retries of messages that failed together.
    const double factor = 1.0 - j + 2.0 * j * unit_interval(rand);
    interval = static_cast<TimeMs>(std::llround(static_cast<double>(interval) * factor));
  }
  interval = std::max(interval, policy_.min_interval_ms);
  // The interval is counted from now, not from the last due time: after the clock jumped back
  // (or a long outage) the result is still in the future, never a burst of immediate retries.
  TimeMs next = now_ms + interval;
  // Last retry: clamp to the deadline so expiry is noticed on time (§4.5.4.1).
  next = std::min(next, expires_at(arrival_ms));
  return std::max(next, now_ms);
}

}  // namespace ferry::delivery
