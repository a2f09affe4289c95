// TokenBucket: see TokenBucket.hpp.
#include "mta/delivery/TokenBucket.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::delivery {

TokenBucket::TokenBucket(double rate_per_second, double burst, TimeMs now)
    : rate_(std::max(rate_per_second, 1e-9)), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(TimeMs now) {
  if (now <= last_) return;
  tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * rate_ / 1000.0);
  last_ = now;
}

bool TokenBucket::try_take(TimeMs now) {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

TimeMs TokenBucket::next_token_at(TimeMs now) {
  refill(now);
  if (tokens_ >= 1.0) return std::max(now, last_);
  const double wait_ms = std::ceil((1.0 - tokens_) * 1000.0 / rate_);
  return last_ + static_cast<TimeMs>(std::min(wait_ms, 86400.0 * 1000));
}

void TokenBucket::drain(TimeMs now) {
  refill(now);
  tokens_ = 0;
}

void TokenBucket::set_rate(double rate_per_second, double burst, TimeMs now) {
  refill(now);
  rate_ = std::max(rate_per_second, 1e-9);
  burst_ = std::max(burst, 1.0);
  tokens_ = std::min(tokens_, burst_);
}

}  // namespace ferry::delivery
