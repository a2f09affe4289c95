// Pacer: the delivery agent's pacing of destinations — which [[pace]] rule a scheduler
// destination falls under (by the MX hosts its deliveries resolved, when an MX rule may apply),
// the PaceLimiter's tokens, connection slots and back-off, the "pace:" log lines and
// `<queue>/pace-state`. Contract: runs on the I/O thread only; never waits (no DNS of its own;
// the state file is small and written at most once a second); a destination it holds back
// waits without an attempt being made or counted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ferry/Clock.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/PaceLimiter.hpp"
#include "mta/delivery/PaceRule.hpp"

namespace ferry::outbound {

class Pacer {
 public:
  explicit Pacer(std::unique_ptr<delivery::PaceLimiter> limiter);

  // The rules in force (the configuration's and the built-in ones) and where the state goes.
  void configure(const config::Config& cfg);
  // At start: the back-offs in force when the daemon last wrote its state come back.
  void restore(TimeMs now);

  // The scheduler's start gate (delivery::Scheduler::StartGate).
  std::optional<TimeMs> admit(const std::string& dest, TimeMs now, bool reuse);
  // A connection admitted with reuse == false is done (or was never opened).
  void closed(const std::string& dest);
  // A connection opened for a batch admitted as reuse (its idle connection was taken by another).
  void opened(const std::string& dest, TimeMs now);
  // The MX hosts a delivery to `domain` resolved (kept for pacing by MX rules).
  void learn_mx(const std::string& domain, std::vector<std::string> hosts, TimeMs now);
  // A reply classified rate_limited, or a 421 to the connection, to a delivery started then.
  void rate_limited(const std::string& dest, TimeMs started_ms, TimeMs now);
  // The rule's messages per connection for `dest` (0 = no limit).
  std::uint32_t messages_per_connection(const std::string& dest, TimeMs now);
  // Recovery steps due, and the state file when something changed; returns when to call again.
  std::optional<TimeMs> tick(TimeMs now);

  std::vector<delivery::PaceStatus> status() const { return limiter_->status(); }

 private:
  struct MxHosts {
    std::vector<std::string> hosts;
    TimeMs expires = 0;
  };
  delivery::PaceKey key_for(const std::string& dest, TimeMs now);  // cached (bounded) once MX is known
  void log_change(const delivery::PaceChange& change);
  void write_state(TimeMs now);

  std::unique_ptr<delivery::PaceLimiter> limiter_;
  std::vector<delivery::PaceRule> rules_;
  bool needs_mx_ = false;
  std::string state_path_;
  std::map<std::string, MxHosts> mx_;                     // recipient domain -> its MX hosts
  std::map<std::string, delivery::PaceKey> keys_;         // scheduler destination -> its key
  std::map<std::string, std::vector<std::string>> open_;  // destination -> key names of its connections
  bool dirty_ = false;
  TimeMs last_write_ = 0;
};

// Rules in the configuration's terms, as the pure core takes them.
std::vector<delivery::PaceRule> pace_rules(const config::Config& cfg);

}  // namespace ferry::outbound
