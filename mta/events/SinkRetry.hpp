// SinkRetry: when an events sink tries again after a failure, and when it says so in the log.
// Contract: pure; the delay doubles from `first` per consecutive failure up to `max`; a log line
// is due only when the sink's state changes (failing <-> working, or the reason changes), never
// once per retry.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ferry::events {

std::chrono::milliseconds retry_delay(unsigned failures, std::chrono::milliseconds first,
                                      std::chrono::milliseconds max);

class SinkRetry {
 public:
  // A failed send: returns the line to log when this is news.
  std::optional<std::string> failed(const std::string& why);
  // A successful send: returns the line to log when the sink was failing.
  std::optional<std::string> succeeded();
  unsigned failures() const { return failures_; }

 private:
  unsigned failures_ = 0;
  std::string last_reason_;
};

}  // namespace ferry::events
