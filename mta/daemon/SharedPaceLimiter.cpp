// SharedPaceLimiter: see SharedPaceLimiter.hpp.
#include "mta/daemon/SharedPaceLimiter.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "mta/delivery/PaceBackoff.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::daemon {

using delivery::PaceChange;
using delivery::PaceDecision;
using delivery::PaceKey;
using delivery::PaceRule;
using delivery::PaceStatus;

namespace {

// Tokens Redis granted are used within this, or forgotten: a node must not sit on a share of
// the fleet's rate it is not using (the bucket counted them as sent either way), nor send late
// ones in a bunch with fresh ones, which a provider counting in windows sees as a burst.
constexpr TimeMs kGrantLifeMs = 250;
// A leased slot not taken by a connection within this is given back.
constexpr TimeMs kSlotLifeMs = 2000;
// Every slot is leased by some node: ask again after this (another node's close wakes no one here).
constexpr TimeMs kSlotPollMs = 200;
// After a call failed or timed out, pace alone at least this long before trying Redis again.
constexpr TimeMs kDegradedMs = 1000;
constexpr TimeMs kHousekeepingMs = 250;
// An answer late beyond the timeout: ask the gate again this often until it is overdue by far.
constexpr TimeMs kOverduePollMs = 10;
constexpr TimeMs kIdleForgetMs = 60'000;
// Work nothing waits on (releases, renewals, merges) may sit in the link's queue this long.
constexpr TimeMs kBackgroundDeadlineMs = 2000;

}  // namespace

SharedPaceLimiter::SharedPaceLimiter(cluster::RedisLink& link, boost::asio::any_io_executor executor,
                                     SharedPaceOptions options, std::function<void()> wake)
    : link_(link), executor_(std::move(executor)), options_(std::move(options)), wake_(std::move(wake)) {
  options_.expected_nodes = std::max<std::uint32_t>(1, options_.expected_nodes);
  // Lease names carry the start time too: a restarted node never takes over a lease of its
  // previous life that has not expired yet.
  options_.node_name += ":" + std::to_string(now_ms());
}

std::uint32_t SharedPaceLimiter::tokens_to_ask(const PaceRule& rule) {
  if (rule.rate <= 0) return 1;
  const double tenth = std::ceil(rule.rate / 10);
  return static_cast<std::uint32_t>(std::clamp(tenth, 1.0, std::max(1.0, delivery::pace_burst(rule))));
}

PaceRule SharedPaceLimiter::alone(const PaceRule& rule, std::uint32_t nodes) {
  if (nodes <= 1) return rule;
  PaceRule r = rule;
  if (rule.rate > 0) {
    r.rate = rule.rate / nodes;
    r.burst = std::max(1.0, delivery::pace_burst(rule) / nodes);
  }
  if (rule.connections > 0)
    r.connections = std::max<std::uint32_t>(1, (rule.connections + nodes - 1) / nodes);
  return r;
}

PaceKey SharedPaceLimiter::alone_key(const PaceKey& key) const {
  return PaceKey{key.name, alone(key.rule, options_.expected_nodes)};
}

bool SharedPaceLimiter::shared(TimeMs now) const { return link_.up() && now >= degraded_until_; }

// Every decision starts here, so a change of mode is seen by the first call after it, however
// short the outage: going alone is logged once, coming back reconciles.
bool SharedPaceLimiter::sharing(TimeMs now) {
  const bool now_shared = shared(now);
  if (now_shared && !was_shared_) reconcile(now);
  if (!now_shared && was_shared_)
    ops::log_warning("pace: Redis unreachable: each node paces alone at 1/" +
                     std::to_string(options_.expected_nodes) + " of each [[pace]] rate until it is back");
  was_shared_ = now_shared;
  return now_shared;
}

SharedPaceLimiter::Dest& SharedPaceLimiter::dest(const PaceKey& key, TimeMs now) {
  Dest& d = dests_.try_emplace(key.name).first->second;
  if (d.rule != key.rule) {  // new, or a reload changed the rule: what was granted under the old one goes
    d.rule = key.rule;
    d.tokens = 0;
    d.unlimited_until = 0;
  }
  d.last_used = now;
  return d;
}

PaceDecision SharedPaceLimiter::acquire(const PaceKey& key, TimeMs now, bool new_connection) {
  Dest& d = dest(key, now);
  if (!sharing(now)) return acquire_alone(key, d, now, new_connection);
  const bool need_slot = new_connection && key.rule.connections > 0;
  if (now >= d.slots_until) release_slots(key.name, d);  // stale leases would hold the fleet's slots
  const bool free_rate = now < d.unlimited_until;
  const bool have_token = free_rate || (d.tokens > 0 && now < d.tokens_until);
  const bool have_slot = !need_slot || (!d.slots.empty() && now < d.slots_until);
  if (have_token && have_slot) {
    if (!free_rate) --d.tokens;
    if (need_slot) {
      d.open.push_back({Held::Shared, d.slots.back()});
      d.slots.pop_back();
    } else if (new_connection) {
      d.open.push_back({Held::Uncounted, {}});
    }
    d.grants.record(now);
    return {true, std::nullopt};
  }
  if (d.asking) {
    // An answer overdue by far (the link is stuck behind something): pace alone meanwhile.
    if (now - d.asked_at > 4 * options_.timeout_ms) return acquire_alone(key, d, now, new_connection);
    return {false, std::max(d.asked_at + options_.timeout_ms, now + kOverduePollMs)};
  }
  if (now < d.retry_at) return {false, d.retry_at};
  ask(key, d, now, !have_token, need_slot && !have_slot);
  return {false, now + options_.timeout_ms};
}

PaceDecision SharedPaceLimiter::acquire_alone(const PaceKey& key, Dest& d, TimeMs now, bool new_connection) {
  const PaceDecision decision = alone_.acquire(alone_key(key), now, new_connection);
  if (decision.go) {
    if (new_connection) d.open.push_back({Held::Local, {}});
    d.grants.record(now);
  }
  return decision;
}

void SharedPaceLimiter::ask(const PaceKey& key, Dest& d, TimeMs now, bool need_token, bool need_slot) {
  cluster::PaceTake take;
  take.name = key.name;
  take.rate = key.rule.rate;
  take.burst = key.rule.rate > 0 ? delivery::pace_burst(key.rule) : 1;
  take.want = need_token ? tokens_to_ask(key.rule) : 0;
  take.want_slot = need_slot;
  take.slot_limit = key.rule.connections;
  take.lease_ms = options_.lease_ms;
  if (need_slot) take.member = next_member();
  d.asking = true;
  d.asked_at = now;
  send(
      cluster::encode_take(take),
      [this, name = key.name, member = take.member](cluster::Replies r) {
        granted(name, member, std::move(r));
      },
      options_.timeout_ms);
}

void SharedPaceLimiter::granted(const std::string& name, const std::string& member,
                                cluster::Replies replies) {
  const TimeMs now = now_ms();
  auto it = dests_.find(name);
  Result<cluster::PaceGrant> grant = make_error(ErrorKind::Unavailable, "no reply");
  if (replies && !replies->empty()) grant = cluster::decode_take(replies->back());
  if (it == dests_.end()) {  // forgotten meanwhile: give back what came
    if (grant && grant->slot) send(cluster::encode_release(name, member), nullptr, kBackgroundDeadlineMs);
    return;
  }
  Dest& d = it->second;
  d.asking = false;
  if (!grant) {
    // An answer that is not one (a Redis without Lua, a proxy's error): said once, not per ask.
    if (replies && !warned_) ops::log_warning("pace: " + grant.error().message + "; pacing alone meanwhile");
    warned_ = warned_ || replies.ok();
    failed(now);
    wake_();  // what waits on this answer goes alone now
    return;
  }
  warned_ = false;
  see_backoff(name, d, grant->backoff_rate, grant->next_step_at);
  if (grant->tokens < 0) {
    d.unlimited_until = now + kGrantLifeMs;
  } else {
    d.unlimited_until = 0;
    if (grant->tokens > 0) {
      if (now >= d.tokens_until) d.tokens = 0;  // expired ones must not come back with the new
      d.tokens += grant->tokens;
      d.tokens_until = now + kGrantLifeMs;
    }
  }
  if (grant->slot) {
    d.slots.push_back(member);
    d.slots_until = now + kSlotLifeMs;
  }
  if (grant->slot_full)
    d.retry_at = now + kSlotPollMs;
  else if (grant->tokens == 0 && grant->wait_ms > 0)
    d.retry_at = now + grant->wait_ms;
  wake_();
}

// Another node's halving (or a recovery step) reaches this node through its next take.
void SharedPaceLimiter::see_backoff(const std::string& name, Dest& d, double rate, TimeMs next_step_at) {
  d.next_step_at = next_step_at;
  if (std::abs(rate - d.backoff_rate) <= 1e-9 * std::max(1.0, rate)) return;
  const bool lower = rate > 0 && (d.backoff_rate <= 0 || rate < d.backoff_rate);
  d.backoff_rate = rate;
  const double in_force = rate > 0 && (d.rule.rate <= 0 || rate < d.rule.rate) ? rate : d.rule.rate;
  changes_.push_back({name, in_force, lower ? "rate_limited" : "recovered"});
}

std::optional<PaceChange> SharedPaceLimiter::rate_limited(const PaceKey& key, TimeMs now, TimeMs started_ms) {
  Dest& d = dest(key, now);
  if (!sharing(now)) return alone_.rate_limited(alone_key(key), now, started_ms);
  cluster::PaceHalve halve;
  halve.name = key.name;
  halve.started_ms = started_ms;
  // Without a configured rate, what this node sent stands for its share of the fleet's.
  halve.base = key.rule.rate > 0 ? key.rule.rate : d.grants.rate(now) * options_.expected_nodes;
  halve.period_ms = key.rule.backoff_period_ms;
  halve.min_gap_ms = delivery::PaceBackoff::kMinGapMs;
  d.tokens = 0;  // the remote said "slow down": the next message waits for the shared bucket
  d.unlimited_until = 0;
  send(
      cluster::encode_halve(halve),
      [this, name = key.name](cluster::Replies r) { halved(name, std::move(r)); }, kBackgroundDeadlineMs);
  return std::nullopt;  // the change is reported when Redis answered
}

void SharedPaceLimiter::halved(const std::string& name, cluster::Replies replies) {
  Result<cluster::PaceHalved> h = make_error(ErrorKind::Unavailable, "no reply");
  if (replies && !replies->empty()) h = cluster::decode_halve(replies->back());
  auto it = dests_.find(name);
  if (!h || it == dests_.end()) return;  // the next 421 tries again
  if (h->changed) see_backoff(name, it->second, h->rate, h->next_step_at);
  wake_();
}

void SharedPaceLimiter::connection_closed(std::string_view destination) {
  auto it = dests_.find(destination);
  if (it == dests_.end() || it->second.open.empty()) return;
  Connection c = std::move(it->second.open.back());
  it->second.open.pop_back();
  if (c.held == Held::Local) alone_.connection_closed(destination);
  if (c.held == Held::Shared)
    send(cluster::encode_release(it->first, c.member), nullptr, kBackgroundDeadlineMs);  // or it expires
}

void SharedPaceLimiter::connection_opened(const PaceKey& key, TimeMs now) {
  Dest& d = dest(key, now);
  if (!sharing(now)) {
    alone_.connection_opened(alone_key(key), now);
    d.open.push_back({Held::Local, {}});
  } else if (key.rule.connections > 0) {
    d.open.push_back({Held::Shared, next_member()});
    send(cluster::encode_leases({{key.name, d.open.back().member}}, options_.lease_ms), nullptr,
         kBackgroundDeadlineMs);
  } else {
    d.open.push_back({Held::Uncounted, {}});
  }
}

std::vector<PaceChange> SharedPaceLimiter::recover(TimeMs now) {
  std::vector<PaceChange> out = std::move(changes_);
  changes_.clear();
  const bool together = sharing(now);
  for (auto& change : alone_.recover(now))
    if (!together) out.push_back(std::move(change));
  if (together && now >= next_renew_) renew(now);
  if (now >= next_housekeeping_) housekeeping(now);
  return out;
}

// Redis is reachable (again): what this node did alone joins the fleet's state.
void SharedPaceLimiter::reconcile(TimeMs now) {
  std::size_t merged = 0;
  for (const PaceStatus& s : alone_.status()) {
    auto it = dests_.find(s.destination);
    if (!s.backed_off || s.rate <= 0 || it == dests_.end()) continue;
    const PaceRule& rule = it->second.rule;
    const double fleet = s.rate * options_.expected_nodes;
    const double base = rule.rate > 0 ? rule.rate : fleet * 2;
    send(cluster::encode_merge(s.destination, fleet, base, rule.backoff_period_ms), nullptr,
         kBackgroundDeadlineMs);
    ++merged;
  }
  std::vector<std::pair<std::string, std::string>> leases;
  for (auto& [name, d] : dests_)
    for (Connection& c : d.open) {
      if (c.held != Held::Local) continue;
      alone_.connection_closed(name);
      c.held = d.rule.connections > 0 ? Held::Shared : Held::Uncounted;
      if (c.held == Held::Shared) leases.emplace_back(name, c.member = next_member());
    }
  if (!leases.empty())
    send(cluster::encode_leases(leases, options_.lease_ms), nullptr, kBackgroundDeadlineMs);
  if (ever_shared_)
    ops::log_info("pace: Redis is back: pacing is shared again (" + std::to_string(merged) +
                  " back-offs merged, " + std::to_string(leases.size()) + " connections leased)");
  else
    ops::log_info("pace: pacing is shared through Redis");
  ever_shared_ = true;
  next_renew_ = now;
}

void SharedPaceLimiter::renew(TimeMs now) {
  next_renew_ = now + std::max<TimeMs>(1, options_.lease_ms / 3);
  std::vector<std::pair<std::string, std::string>> leases;
  for (const auto& [name, d] : dests_) {
    for (const Connection& c : d.open)
      if (c.held == Held::Shared) leases.emplace_back(name, c.member);
    for (const std::string& m : d.slots) leases.emplace_back(name, m);
  }
  if (!leases.empty())
    send(cluster::encode_leases(leases, options_.lease_ms), nullptr, kBackgroundDeadlineMs);
}

void SharedPaceLimiter::housekeeping(TimeMs now) {
  next_housekeeping_ = now + kHousekeepingMs;
  for (auto it = dests_.begin(); it != dests_.end();) {
    Dest& d = it->second;
    if (now >= d.slots_until) release_slots(it->first, d);
    const bool idle = d.open.empty() && d.slots.empty() && !d.asking && d.backoff_rate <= 0 &&
                      now - d.last_used > kIdleForgetMs;
    it = idle ? dests_.erase(it) : std::next(it);
  }
}

std::optional<TimeMs> SharedPaceLimiter::next_recovery_at() const {
  std::optional<TimeMs> next = alone_.next_recovery_at();
  if (!dests_.empty() && (!next || next_housekeeping_ < *next)) next = next_housekeeping_;
  return next;
}

std::vector<PaceStatus> SharedPaceLimiter::status() const {
  if (!shared(now_ms())) return alone_.status();
  std::vector<PaceStatus> out;
  for (const auto& [name, d] : dests_) {
    const bool backed_off = d.backoff_rate > 0 && (d.rule.rate <= 0 || d.backoff_rate < d.rule.rate);
    PaceStatus s{name,         backed_off ? d.backoff_rate : d.rule.rate,
                 d.rule.rate,  backed_off,
                 std::nullopt, d.open.size()};
    if (backed_off && d.next_step_at > 0) s.next_step_at = d.next_step_at;
    out.push_back(std::move(s));
  }
  return out;
}

// A back-off saved before a restart: Redis holds the fleet's, so it only matters while pacing
// alone, at this node's share.
void SharedPaceLimiter::restore(const PaceKey& key, double rate, TimeMs next_step_at, TimeMs now) {
  alone_.restore(alone_key(key), rate / options_.expected_nodes, next_step_at, now);
}

void SharedPaceLimiter::release_slots(const std::string& name, Dest& d) {
  for (const std::string& m : d.slots) send(cluster::encode_release(name, m), nullptr, kBackgroundDeadlineMs);
  d.slots.clear();
}

void SharedPaceLimiter::failed(TimeMs now) { degraded_until_ = now + kDegradedMs; }

std::string SharedPaceLimiter::next_member() {
  return options_.node_name + ":" + std::to_string(++sequence_);
}

void SharedPaceLimiter::send(std::vector<cluster::Argv> commands, std::function<void(cluster::Replies)> done,
                             TimeMs deadline_ms) {
  std::weak_ptr<bool> alive = alive_;
  boost::asio::any_io_executor executor = executor_;
  link_.submit(std::move(commands), cluster::LinkClock::now() + std::chrono::milliseconds(deadline_ms),
               [alive, executor, done = std::move(done)](cluster::Replies r) {
                 if (!done) return;
                 boost::asio::post(executor, [alive, done, r = std::move(r)]() mutable {
                   if (!alive.expired()) done(std::move(r));
                 });
               });
}

}  // namespace ferry::daemon
