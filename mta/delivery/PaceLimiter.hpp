// PaceLimiter: the pacing decisions of every destination: tokens, open connections, back-off.
// Contract: pure interface (time is an argument); one implementation keeps the state in memory
// (LocalPaceLimiter); one shared by several nodes can replace it behind the same calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Clock.hpp"
#include "mta/delivery/PaceRule.hpp"

namespace ferry::delivery {

// May a delivery to a destination start now?
struct PaceDecision {
  bool go = false;
  // When !go: when to ask again (a token will be there); nullopt = when a connection of the
  // destination closes (its connection limit is reached).
  std::optional<TimeMs> retry_at;
};

// A change of a destination's rate, for the log and the metrics.
struct PaceChange {
  std::string destination;  // PaceKey::name
  double rate = 0;          // messages per second now; 0 = unlimited
  std::string_view reason;  // "rate_limited" or "recovered"
};

// What `queue show` and the metrics show of a destination.
struct PaceStatus {
  std::string destination;
  double rate = 0;        // in force now; 0 = unlimited
  double configured = 0;  // the rule's rate; 0 = none
  bool backed_off = false;
  std::optional<TimeMs> next_step_at;  // the next recovery step while backed off
  std::size_t connections = 0;
};

class PaceLimiter {
 public:
  virtual ~PaceLimiter() = default;
  // Asks for one token; with `new_connection`, also for a connection slot under the rule's
  // `connections`. On go, both are taken (the slot until connection_closed).
  virtual PaceDecision acquire(const PaceKey& key, TimeMs now, bool new_connection) = 0;
  virtual void connection_closed(std::string_view destination) = 0;
  // A connection opened without asking (a batch let go to reuse an idle connection that was
  // gone by then): counted, even above the limit, so its close balances.
  virtual void connection_opened(const PaceKey& key, TimeMs now) = 0;
  // A reply classified rate_limited (or a 421 at the greeting) to a delivery started at
  // `started_ms`; the change when the rate was cut.
  virtual std::optional<PaceChange> rate_limited(const PaceKey& key, TimeMs now, TimeMs started_ms) = 0;
  // Recovery steps due by `now`; forgets idle destinations that are not backed off.
  virtual std::vector<PaceChange> recover(TimeMs now) = 0;
  // The earliest recovery step of any destination (a timer for recover()).
  virtual std::optional<TimeMs> next_recovery_at() const = 0;
  virtual std::vector<PaceStatus> status() const = 0;
  // A state remembered from before a restart: `rate` in force, backed off until `next_step_at`.
  virtual void restore(const PaceKey& key, double rate, TimeMs next_step_at, TimeMs now) = 0;
};

}  // namespace ferry::delivery
