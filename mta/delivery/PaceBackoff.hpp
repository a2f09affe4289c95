// PaceBackoff: one destination's sending rate under the remote's "slow down" replies.
// Contract: pure; a rate limit halves the current rate (never under the floor) and holds it for
// one period; each further period without a rate limit multiplies it by 1.5, never above the
// base rate; at the base rate the back-off is over.
#pragma once

#include <optional>

#include "ferry/Clock.hpp"

namespace ferry::delivery {

class PaceBackoff {
 public:
  // `base`: the configured rate in messages per second, 0 = none (then the rate observed when
  // the first rate limit arrives is the base, and recovery ends at it: unlimited again).
  PaceBackoff(double base, TimeMs period_ms);

  // The rate in force now; 0 = unlimited (no configured rate and no back-off).
  double rate() const noexcept { return backed_off_ ? current_ : base_; }
  bool backed_off() const noexcept { return backed_off_; }
  double base() const noexcept { return backed_off_ ? effective_base_ : base_; }
  // The time of the next recovery step; nullopt when not backed off.
  std::optional<TimeMs> next_step_at() const;

  // A rate-limit reply (or a 421 at the greeting) to a delivery that started at `started_ms`.
  // A delivery started before the last halving was sent at the old rate: its reply says nothing
  // about the new one and is ignored (one halving per round, as TCP halves once per window).
  // Nor does one within kMinGapMs of the last halving (at most the period): providers count in
  // windows of a second or more, so the messages accepted just before the halving still fill
  // the remote's window for a moment and its refusals then are the echo of the old rate.
  // `observed`: the rate actually sent lately (messages per second), the base when none is
  // configured. Returns true when the rate changed.
  bool rate_limited(TimeMs now, TimeMs started_ms, double observed);
  // Recovery: true when a step was taken (call it at next_step_at() or later; one step per call,
  // at most one per period).
  bool recover(TimeMs now);

  // A back-off remembered across a restart: `rate` in force since `last_change`; `base_guess`
  // stands for the observed base when no rate is configured. Ignored unless under the base.
  void restore(double rate, double base_guess, TimeMs last_change);

  // The lowest rate a back-off reaches: 1/64 of the base, never under one message a minute
  // (never above the base itself).
  static double floor_for(double base);
  static constexpr double kRecoveryFactor = 1.5;
  static constexpr TimeMs kMinGapMs = 1000;

 private:
  double base_;
  TimeMs period_;
  bool backed_off_ = false;
  double current_ = 0;
  double effective_base_ = 0;  // base_ or, without one, the observed rate at the first halving
  TimeMs last_change_ = 0;
  TimeMs last_halving_ = 0;
};

}  // namespace ferry::delivery
