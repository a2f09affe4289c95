// PaceBackoff: see PaceBackoff.hpp.
#include "mta/delivery/PaceBackoff.hpp"

#include <algorithm>

namespace ferry::delivery {

PaceBackoff::PaceBackoff(double base, TimeMs period_ms)
    : base_(std::max(0.0, base)), period_(std::max<TimeMs>(1, period_ms)) {}

double PaceBackoff::floor_for(double base) { return std::min(base, std::max(base / 64.0, 1.0 / 60.0)); }

std::optional<TimeMs> PaceBackoff::next_step_at() const {
  if (!backed_off_) return std::nullopt;
  return last_change_ + period_;
}

bool PaceBackoff::rate_limited(TimeMs now, TimeMs started_ms, double observed) {
  if (backed_off_ && (started_ms < last_halving_ || now < last_halving_ + std::min(kMinGapMs, period_)))
    return false;
  if (!backed_off_) {
    // Without a configured rate, what was sent lately is what the remote refused.
    effective_base_ = base_ > 0 ? base_ : std::max(observed, 1.0 / 60.0);
    current_ = effective_base_;
  }
  const double next = std::max(current_ / 2.0, floor_for(effective_base_));
  const bool changed = !backed_off_ || next != current_;
  backed_off_ = true;
  current_ = next;
  last_change_ = now;
  last_halving_ = now;
  return changed;
}

void PaceBackoff::restore(double rate, double base_guess, TimeMs last_change) {
  const double base = base_ > 0 ? base_ : base_guess;
  if (!(rate > 0) || !(base > 0) || rate >= base) return;
  effective_base_ = base;
  backed_off_ = true;
  current_ = std::max(rate, floor_for(base));
  last_change_ = last_change;
  last_halving_ = last_change;
}

bool PaceBackoff::recover(TimeMs now) {
  if (!backed_off_ || now < last_change_ + period_) return false;
  current_ = current_ * kRecoveryFactor;
  last_change_ = now;
  if (current_ >= effective_base_) {
    backed_off_ = false;
    current_ = 0;
  }
  return true;
}

}  // namespace ferry::delivery
