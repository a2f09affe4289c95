// RateLimitedMx: a FakeMx that refuses messages above N per window (a second unless told) the way a big
// provider does
// ("421 4.7.0 [TSS04] ... temporarily deferred due to unexpected volume", Yahoo's deferral), and
// keeps the times of what it accepted and refused, for the pacing tests.
// Contract: header-only; installs FakeMx::on_data (called on the fake's session threads, so
// everything here is under one mutex); limit 0 = no limit (the limit lifted).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "support/FakeMx.hpp"

namespace ferry::test {

class RateLimitedMx {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr const char* kRefusal =
      "421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user "
      "complaints";

  struct Event {
    double at_s;  // seconds since construction
    bool accepted;
    std::string rcpt;
  };

  RateLimitedMx(FakeMx& mx, int per_window, std::chrono::milliseconds window = std::chrono::seconds(1))
      : start_(Clock::now()), limit_(per_window), window_length_(window) {
    mx.on_data = [this](const ReceivedMessage& m) { return on_data(m); };
  }

  void set_limit(int per_second) {
    std::lock_guard lock(mutex_);
    limit_ = per_second;
  }
  double now_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // How many times each recipient was accepted (delivered).
  std::map<std::string, int> accepted_by_rcpt() {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const auto& e : events_)
      if (e.accepted) ++out[e.rcpt];
    return out;
  }

 private:
  // A sliding window: at most `limit_` messages accepted in any `window_length_`.
  std::string on_data(const ReceivedMessage& m) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    while (!window_.empty() && now - window_.front() >= window_length_) window_.pop_front();
    const double at = std::chrono::duration<double>(now - start_).count();
    const std::string rcpt = m.rcpt_to.empty() ? std::string() : m.rcpt_to.front();
    if (limit_ > 0 && static_cast<int>(window_.size()) >= limit_) {
      events_.push_back({at, false, rcpt});
      return kRefusal;
    }
    window_.push_back(now);
    events_.push_back({at, true, rcpt});
    return "250 2.0.0 Ok: queued";
  }

  const Clock::time_point start_;
  std::mutex mutex_;
  int limit_;
  const std::chrono::milliseconds window_length_;
  std::deque<Clock::time_point> window_;
  std::vector<Event> events_;
};

}  // namespace ferry::test
