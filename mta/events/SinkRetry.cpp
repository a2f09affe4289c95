// SinkRetry: see SinkRetry.hpp.
#include "mta/events/SinkRetry.hpp"

namespace ferry::events {

std::chrono::milliseconds retry_delay(unsigned failures, std::chrono::milliseconds first,
                                      std::chrono::milliseconds max) {
  if (failures == 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds d = first;
  for (unsigned i = 1; i < failures && d < max; ++i) d *= 2;  // bounded: stops at max
  return d < max ? d : max;
}

std::optional<std::string> SinkRetry::failed(const std::string& why) {
  ++failures_;
  if (failures_ > 1 && why == last_reason_) return std::nullopt;
  last_reason_ = why;
  return failures_ == 1 ? "failing: " + why : "still failing, now: " + why;
}

std::optional<std::string> SinkRetry::succeeded() {
  if (failures_ == 0) return std::nullopt;
  const unsigned n = failures_;
  failures_ = 0;
  last_reason_.clear();
  return "working again after " + std::to_string(n) + " failed attempt(s)";
}

}  // namespace ferry::events
