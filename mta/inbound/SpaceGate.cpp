#include "mta/inbound/SpaceGate.hpp"

#include <utility>

namespace ferry::inbound {

SpaceGate::SpaceGate(Probe probe, OnChange on_change, Clock::duration max_age)
    : probe_(std::move(probe)), on_change_(std::move(on_change)), max_age_(max_age) {}

bool SpaceGate::accepting(Clock::time_point now) {
  // A stale "no" would refuse mail the queue now has room for (delivery frees space at any
  // moment, and LMDB's freed pages count only once their transaction is committed): a refusal
  // is always based on a fresh measurement.
  if (!last_.ok || !measured_ || now - *measured_ >= max_age_) refresh(now);
  return last_.ok;
}

void SpaceGate::refresh(Clock::time_point now) {
  auto next = probe_();
  if (!next) return;
  measured_ = now;
  const bool changed = next->ok != last_.ok;
  last_ = std::move(*next);
  if (changed && on_change_) on_change_(last_);
}

}  // namespace ferry::inbound
