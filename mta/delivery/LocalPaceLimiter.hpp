// LocalPaceLimiter: PaceLimiter with every destination's state in this process's memory.
// Contract: pure (time is an argument); state is per PaceKey::name and follows the key's rule
// when it changes (configuration reload); idle destinations without a back-off are forgotten.
#pragma once

#include <map>
#include <string>

#include "mta/delivery/GrantWindow.hpp"
#include "mta/delivery/PaceBackoff.hpp"
#include "mta/delivery/PaceLimiter.hpp"
#include "mta/delivery/TokenBucket.hpp"

namespace ferry::delivery {

class LocalPaceLimiter final : public PaceLimiter {
 public:
  PaceDecision acquire(const PaceKey& key, TimeMs now, bool new_connection) override;
  void connection_closed(std::string_view destination) override;
  void connection_opened(const PaceKey& key, TimeMs now) override;
  std::optional<PaceChange> rate_limited(const PaceKey& key, TimeMs now, TimeMs started_ms) override;
  std::vector<PaceChange> recover(TimeMs now) override;
  std::optional<TimeMs> next_recovery_at() const override;
  std::vector<PaceStatus> status() const override;
  void restore(const PaceKey& key, double rate, TimeMs next_step_at, TimeMs now) override;

 private:
  struct State {
    explicit State(const PaceRule& r) : rule(r), backoff(r.rate, r.backoff_period_ms) {}
    PaceRule rule;
    PaceBackoff backoff;
    std::optional<TokenBucket> bucket;  // none while the rate is unlimited
    std::size_t connections = 0;
    GrantWindow grants;  // the rate sent lately
    TimeMs last_used = 0;
  };

  State& state_for(const PaceKey& key, TimeMs now);
  void apply_rate(State& s, TimeMs now);

  std::map<std::string, State, std::less<>> states_;
};

}  // namespace ferry::delivery
