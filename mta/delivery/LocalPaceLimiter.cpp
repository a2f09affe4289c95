// LocalPaceLimiter: see LocalPaceLimiter.hpp.
#include "mta/delivery/LocalPaceLimiter.hpp"

#include <algorithm>

namespace ferry::delivery {

namespace {

// Forget a destination after this long without a delivery, unless it is backed off or busy.
constexpr TimeMs kIdleForgetMs = 60'000;

}  // namespace

LocalPaceLimiter::State& LocalPaceLimiter::state_for(const PaceKey& key, TimeMs now) {
  auto it = states_.find(key.name);
  if (it != states_.end() && it->second.rule == key.rule) return it->second;
  if (it != states_.end()) {
    // The rule changed (reload): the new rule starts afresh; the connections stay counted.
    const std::size_t open = it->second.connections;
    states_.erase(it);
    it = states_.emplace(key.name, State(key.rule)).first;
    it->second.connections = open;
  } else {
    it = states_.emplace(key.name, State(key.rule)).first;
  }
  apply_rate(it->second, now);
  return it->second;
}

// The bucket follows the rate in force; its burst shrinks in proportion under a back-off.
void LocalPaceLimiter::apply_rate(State& s, TimeMs now) {
  const double rate = s.backoff.rate();
  if (rate <= 0) {
    s.bucket.reset();
    return;
  }
  const double base = s.backoff.base() > 0 ? s.backoff.base() : rate;
  const double full = s.rule.rate > 0 ? pace_burst(s.rule) : std::max(1.0, base);
  const double burst = std::max(1.0, full * rate / base);
  if (s.bucket)
    s.bucket->set_rate(rate, burst, now);
  else
    s.bucket.emplace(rate, burst, now);
}

PaceDecision LocalPaceLimiter::acquire(const PaceKey& key, TimeMs now, bool new_connection) {
  State& s = state_for(key, now);
  s.last_used = now;
  if (new_connection && s.rule.connections > 0 && s.connections >= s.rule.connections)
    return {false, std::nullopt};
  if (s.bucket && !s.bucket->try_take(now)) return {false, s.bucket->next_token_at(now)};
  if (new_connection) ++s.connections;
  s.grants.record(now);
  return {true, std::nullopt};
}

void LocalPaceLimiter::connection_opened(const PaceKey& key, TimeMs now) {
  ++state_for(key, now).connections;
}

void LocalPaceLimiter::connection_closed(std::string_view destination) {
  auto it = states_.find(destination);
  if (it != states_.end() && it->second.connections > 0) --it->second.connections;
}

std::optional<PaceChange> LocalPaceLimiter::rate_limited(const PaceKey& key, TimeMs now, TimeMs started_ms) {
  State& s = state_for(key, now);
  s.last_used = now;
  if (!s.backoff.rate_limited(now, started_ms, s.grants.rate(now))) return std::nullopt;
  apply_rate(s, now);
  if (s.bucket) s.bucket->drain(now);  // the remote said "slow down": the next message waits its turn
  return PaceChange{key.name, s.backoff.rate(), "rate_limited"};
}

std::vector<PaceChange> LocalPaceLimiter::recover(TimeMs now) {
  std::vector<PaceChange> out;
  for (auto it = states_.begin(); it != states_.end();) {
    State& s = it->second;
    if (s.backoff.recover(now)) {
      apply_rate(s, now);
      out.push_back({it->first, s.backoff.rate(), "recovered"});
    }
    const bool idle = !s.backoff.backed_off() && s.connections == 0 && now - s.last_used > kIdleForgetMs;
    it = idle ? states_.erase(it) : std::next(it);
  }
  return out;
}

std::optional<TimeMs> LocalPaceLimiter::next_recovery_at() const {
  std::optional<TimeMs> best;
  for (const auto& [name, s] : states_)
    if (auto t = s.backoff.next_step_at(); t && (!best || *t < *best)) best = t;
  return best;
}

std::vector<PaceStatus> LocalPaceLimiter::status() const {
  std::vector<PaceStatus> out;
  for (const auto& [name, s] : states_)
    out.push_back({name, s.backoff.rate(), s.rule.rate, s.backoff.backed_off(), s.backoff.next_step_at(),
                   s.connections});
  return out;
}

void LocalPaceLimiter::restore(const PaceKey& key, double rate, TimeMs next_step_at, TimeMs now) {
  State& s = state_for(key, now);
  if (rate <= 0 || s.backoff.backed_off()) return;
  // The next step comes where it was due: the back-off survives a restart instead of starting
  // at full speed. Without a configured rate the base is taken as twice the remembered rate.
  const TimeMs period = std::max<TimeMs>(1, key.rule.backoff_period_ms);
  s.backoff.restore(rate, rate * 2, std::min(now, next_step_at - period));
  apply_rate(s, now);
}

}  // namespace ferry::delivery
