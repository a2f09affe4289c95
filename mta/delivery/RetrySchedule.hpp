// RetrySchedule: when a recipient with a transient failure is tried next (RFC 5321 §4.5.4.1).
// Contract: pure; exponential backoff with jitter, never before `now`, nullopt once max_age passed.
#pragma once

#include <cstdint>
#include <optional>

#include "ferry/Clock.hpp"
#include "mta/delivery/Random.hpp"

namespace ferry::delivery {

// All retry parameters are configurable (RFC 5321 §4.5.4.1 MUST); the daemon fills this from
// `[retry]` in the configuration.
struct RetryPolicy {
  TimeMs first_ms = 5 * 60 * 1000;                // first retry after 5 minutes
  double multiplier = 2.0;                        // each later interval is this many times longer
  TimeMs max_interval_ms = 60 * 60 * 1000;        // ...capped at one hour
  double jitter = 0.1;                            // interval × (1 ± jitter), drawn from the RNG
  TimeMs max_age_ms = 5LL * 24 * 60 * 60 * 1000;  // give up after 5 days (§4.5.4.1: "4-5 days")
  TimeMs min_interval_ms = 1000;                  // floor: a zero/negative config never hot-loops
  // A greylisted recipient's fixed retry delay: greylisting (RFC 6647 §2.1) lets the retry
  // through after a few minutes, so a growing interval would only add delay.
  TimeMs greylist_ms = 5 * 60 * 1000;
};

class RetrySchedule {
 public:
  explicit RetrySchedule(RetryPolicy policy = {});

  const RetryPolicy& policy() const noexcept { return policy_; }

  // The un-jittered interval after `attempts_so_far` failed attempts (>= 1):
  // first × multiplier^(attempts_so_far − 1), capped at max_interval (and at least min_interval).
  // 0 attempts → 0 (a new recipient is due at once).
  TimeMs base_interval(std::uint32_t attempts_so_far) const;

  // When to try next, given the message's arrival time, how many attempts have been made, and
  // the current time. nullopt = the recipient has expired (fail it with 4.4.7, see
  // ReplyClassifier's expired_attempt). The result is always >= now (a clock that jumped back
  // cannot cause a hot loop) and never later than arrival + max_age: the last retry is clamped
  // so that an expiry check happens exactly at the deadline.
  std::optional<TimeMs> next_attempt(TimeMs arrival_ms, std::uint32_t attempts_so_far, TimeMs now_ms,
                                     const RandomSource& rand) const;

  // True once now >= arrival + max_age (RFC 5321 §4.5.4.1 give-up time).
  bool expired(TimeMs arrival_ms, TimeMs now_ms) const;
  TimeMs expires_at(TimeMs arrival_ms) const;

 private:
  RetryPolicy policy_;
};

}  // namespace ferry::delivery
