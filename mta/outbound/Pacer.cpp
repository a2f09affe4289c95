// Pacer: see Pacer.hpp.
#include "mta/outbound/Pacer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ferry/text/Rate.hpp"
#include "mta/delivery/PaceState.hpp"
#include "mta/ops/Log.hpp"

namespace ferry::outbound {

namespace {

// MX hosts learned for pacing are kept this long (the resolver's cache has the real TTL; this
// only bounds how long a domain stays under an MX rule after its MX moved), failures shortly.
constexpr TimeMs kMxKeepMs = 60 * 60 * 1000;
constexpr TimeMs kMxFailedKeepMs = 60 * 1000;
// Without a token or slot time: a destination at its connection limit asks again after this at
// the latest (a closing connection wakes it sooner).
constexpr TimeMs kSlotWaitMs = 1000;
constexpr std::size_t kMaxMxEntries = 100000;
constexpr std::size_t kMaxStateBytes = 4 << 20;

bool is_domain_destination(const std::string& dest) { return dest.find(':') == std::string::npos; }

}  // namespace

std::vector<delivery::PaceRule> pace_rules(const config::Config& cfg) {
  std::vector<delivery::PaceRule> user;
  for (const auto& r : cfg.pace) {
    delivery::PaceRule p;
    p.match = r.mx.empty() ? delivery::PaceRule::Match::Domain : delivery::PaceRule::Match::Mx;
    p.pattern = r.mx.empty() ? r.domain : r.mx;
    p.rate = r.rate_per_second;
    p.burst = r.burst;
    p.connections = r.connections;
    p.messages_per_connection = r.messages_per_connection;
    p.backoff_period_ms = r.backoff_period.count();
    user.push_back(std::move(p));
  }
  return delivery::effective_pace_rules(user);
}

Pacer::Pacer(std::unique_ptr<delivery::PaceLimiter> limiter) : limiter_(std::move(limiter)) {}

void Pacer::configure(const config::Config& cfg) {
  rules_ = pace_rules(cfg);
  needs_mx_ = delivery::pace_needs_mx(rules_);
  state_path_ = cfg.queue.path + "/pace-state";
  keys_.clear();  // every destination is matched again under the new rules
}

// A domain whose MX hosts are not known yet (its first delivery resolves them) is paced under
// its own key meanwhile: pacing never waits for DNS, so a DNS outage costs no extra delay; at
// most the first connections to a newly seen domain (slow start keeps them few) miss its MX rule.
delivery::PaceKey Pacer::key_for(const std::string& dest, TimeMs now) {
  if (auto it = keys_.find(dest); it != keys_.end()) return it->second;
  std::vector<std::string> hosts;
  bool known = true;
  if (needs_mx_ && is_domain_destination(dest)) {
    auto mx = mx_.find(dest);
    known = mx != mx_.end() && mx->second.expires > now;
    if (known) hosts = mx->second.hosts;
  }
  delivery::PaceKey key = delivery::pace_key_for(rules_, dest, hosts, dest);
  if (!known) return key;                            // not kept: asked again once the MX hosts are learned
  if (key.name != dest) dirty_ = true;               // queue show maps the domain to its key
  if (keys_.size() >= kMaxMxEntries) keys_.clear();  // bounded; refilled as destinations come back
  return keys_[dest] = std::move(key);
}

std::optional<TimeMs> Pacer::admit(const std::string& dest, TimeMs now, bool reuse) {
  const delivery::PaceKey key = key_for(dest, now);
  const delivery::PaceDecision d = limiter_->acquire(key, now, !reuse);
  if (!d.go) return d.retry_at.value_or(now + kSlotWaitMs);
  if (!reuse) open_[dest].push_back(key.name);
  return std::nullopt;
}

void Pacer::opened(const std::string& dest, TimeMs now) {
  const delivery::PaceKey key = key_for(dest, now);
  limiter_->connection_opened(key, now);
  open_[dest].push_back(key.name);
}

void Pacer::closed(const std::string& dest) {
  auto it = open_.find(dest);
  if (it == open_.end() || it->second.empty()) return;
  limiter_->connection_closed(it->second.back());
  it->second.pop_back();
  if (it->second.empty()) open_.erase(it);
}

void Pacer::learn_mx(const std::string& domain, std::vector<std::string> hosts, TimeMs now) {
  if (!needs_mx_ || !is_domain_destination(domain)) return;
  if (mx_.size() >= kMaxMxEntries && !mx_.count(domain)) mx_.clear();  // bounded; refilled as needed
  const bool failed = hosts.empty();
  auto& e = mx_[domain];
  const bool changed = e.hosts != hosts;
  e.hosts = std::move(hosts);
  e.expires = now + (failed ? kMxFailedKeepMs : kMxKeepMs);
  if (changed) keys_.erase(domain);
}

void Pacer::rate_limited(const std::string& dest, TimeMs started_ms, TimeMs now) {
  if (auto change = limiter_->rate_limited(key_for(dest, now), now, started_ms)) {
    log_change(*change);
    dirty_ = true;
  }
}

std::uint32_t Pacer::messages_per_connection(const std::string& dest, TimeMs now) {
  return key_for(dest, now).rule.messages_per_connection;
}

std::optional<TimeMs> Pacer::tick(TimeMs now) {
  for (const auto& change : limiter_->recover(now)) {
    log_change(change);
    dirty_ = true;
  }
  if (dirty_ && now - last_write_ >= 1000) write_state(now);
  auto next = limiter_->next_recovery_at();
  if (dirty_) next = std::min(next.value_or(now + 1000), last_write_ + 1000);
  return next;
}

void Pacer::log_change(const delivery::PaceChange& change) {
  ops::log_info("pace: destination=" + change.destination + " rate=" + text::format_rate(change.rate) +
                " reason=" + std::string(change.reason));
}

// Written beside the queue (the run user's 0700 directory) through a temporary file renamed
// over the old one, so a reader sees the old state or the new one, never half of one.
void Pacer::write_state(TimeMs now) {
  dirty_ = false;
  last_write_ = now;
  if (state_path_.empty()) return;
  delivery::PaceStateFile state;
  state.written_ms = now;
  state.destinations = limiter_->status();
  for (const auto& [dest, key] : keys_)
    if (key.name != dest) state.keys.emplace_back(dest, key.name);
  const std::string text = delivery::format_pace_state(state);
  const std::string tmp = state_path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ok = ::close(fd) == 0 && ok;
  if (ok) ok = ::rename(tmp.c_str(), state_path_.c_str()) == 0;
  if (!ok) ops::log_warning("pace: cannot write " + state_path_ + ": " + std::strerror(errno));
}

void Pacer::restore(TimeMs now) {
  if (state_path_.empty()) return;
  const int fd = ::open(state_path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  std::string text;
  char buf[8192];
  for (ssize_t n; text.size() < kMaxStateBytes && (n = ::read(fd, buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto state = delivery::parse_pace_state(text);
  if (!state) return;
  for (const auto& d : state->destinations) {
    if (!d.backed_off || !d.next_step_at) continue;
    const auto key = delivery::pace_key_by_name(rules_, d.destination);
    if (!key) continue;
    limiter_->restore(*key, d.rate, *d.next_step_at, now);
    ops::log_info("pace: destination=" + d.destination + " rate=" + text::format_rate(d.rate) +
                  " reason=restored");
  }
  dirty_ = true;
}

}  // namespace ferry::outbound
