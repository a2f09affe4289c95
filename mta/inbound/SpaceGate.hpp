// SpaceGate: the backpressure answer to "may MAIL be accepted?" from the queue's free space
// ([queue] min_free, as Postfix's queue_minfree), measured through an injected probe.
// Contract: a "yes" may be reused for `max_age`; a "no" is never reused — before MAIL is refused
// the space is measured again, so room freed by delivery is seen by the very next client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace ferry::inbound {

struct SpaceCheck {
  bool ok = true;
  std::string why;  // when !ok: what is short, for the log
  std::uint64_t fs_free = 0, fs_size = 0;
};

class SpaceGate {
 public:
  using Clock = std::chrono::steady_clock;
  // Measures now; nullopt when the measurement failed (the last answer stands).
  using Probe = std::function<std::optional<SpaceCheck>()>;
  // Called when the answer flips, with the new measurement.
  using OnChange = std::function<void(const SpaceCheck&)>;

  SpaceGate(Probe probe, OnChange on_change, Clock::duration max_age = std::chrono::milliseconds(200));

  // Asked for each MAIL: measures again when the last answer is older than max_age or was "no".
  bool accepting(Clock::time_point now);
  // Measures now (timers, reload, metrics).
  void refresh(Clock::time_point now);
  const SpaceCheck& last() const { return last_; }

 private:
  Probe probe_;
  OnChange on_change_;
  Clock::duration max_age_;
  std::optional<Clock::time_point> measured_;
  SpaceCheck last_;
};

}  // namespace ferry::inbound
