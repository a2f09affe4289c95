// SessionTimers: how long one inbound SMTP connection may wait for its next read, from the
// command/data timeouts, the transaction deadline and the server's stress mode.
// Contract: pure (time points are passed in, no clock is read); the transaction deadline runs
// from connect and starts again at each accepted message; a read never outlives it.
#pragma once

#include <chrono>
#include <cstddef>

namespace ferry::inbound {

struct SessionTimerSettings {
  std::chrono::milliseconds command{std::chrono::minutes(5)};
  std::chrono::milliseconds data{std::chrono::minutes(5)};
  std::chrono::milliseconds transaction{std::chrono::minutes(30)};
  std::chrono::milliseconds stress{std::chrono::seconds(10)};
};

// Postfix's stress mode: more than 80% of the connection slots are in use.
inline bool under_stress(std::size_t active, std::size_t max_connections) {
  return max_connections != 0 && active * 5 > max_connections * 4;
}

class SessionTimers {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Read {
    std::chrono::milliseconds timeout;
    bool transaction_limit = false;  // the transaction deadline, not the read timeout, bounds it
  };

  SessionTimers(const SessionTimerSettings& settings, TimePoint connected)
      : settings_(settings), deadline_(connected + settings.transaction) {}

  // A message was accepted: the next one gets a whole transaction_timeout again.
  void message_accepted(TimePoint now) { deadline_ = now + settings_.transaction; }

  // RFC 5321 §4.5.3.2.7 (command) and §4.5.3.2.5-6 (data) timeouts, shortened under stress,
  // and never past the transaction deadline (then `transaction_limit` says why it ended).
  Read next_read(TimePoint now, bool in_data, bool stressed) const {
    using std::chrono::milliseconds;
    milliseconds timeout = in_data ? settings_.data : settings_.command;
    if (stressed && settings_.stress < timeout) timeout = settings_.stress;
    const auto left =
        deadline_ > now ? std::chrono::duration_cast<milliseconds>(deadline_ - now) : milliseconds(0);
    if (left <= timeout) return {left, true};
    return {timeout, false};
  }

 private:
  SessionTimerSettings settings_;
  TimePoint deadline_;
};

}  // namespace ferry::inbound
