// SharedPaceLimiter: [[pace]] for a fleet — every node draws its tokens, connection slots and
// back-off from Redis (the scripts of mta/cluster/PaceScripts), so five nodes honour one
// destination's rate together instead of five times over.
// Contract: runs on the I/O thread and never waits: acquire() answers from what Redis granted
// before (tokens for a moment, slots leased), asks Redis for more in the background and wakes
// the scheduler when the answer is there. While Redis is unreachable or slower than [cluster]
// timeout, the node paces alone at each rate divided by [cluster] expected_nodes (logged once);
// when Redis is back, back-offs reached alone are merged into the shared ones and connections
// opened meanwhile are leased. Its leases are renewed every third of [cluster] lease, so a node
// that dies frees its slots within that time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mta/cluster/PaceScripts.hpp"
#include "mta/cluster/RedisLink.hpp"
#include "mta/delivery/GrantWindow.hpp"
#include "mta/delivery/LocalPaceLimiter.hpp"
#include "mta/delivery/PaceLimiter.hpp"

namespace ferry::daemon {

struct SharedPaceOptions {
  std::string node_name;
  std::uint32_t expected_nodes = 1;
  TimeMs lease_ms = 30'000;
  TimeMs timeout_ms = 50;
};

class SharedPaceLimiter final : public delivery::PaceLimiter {
 public:
  // `wake` runs on the I/O thread when Redis granted something a held destination waits for.
  SharedPaceLimiter(cluster::RedisLink& link, boost::asio::any_io_executor executor,
                    SharedPaceOptions options, std::function<void()> wake);

  delivery::PaceDecision acquire(const delivery::PaceKey& key, TimeMs now, bool new_connection) override;
  void connection_closed(std::string_view destination) override;
  void connection_opened(const delivery::PaceKey& key, TimeMs now) override;
  std::optional<delivery::PaceChange> rate_limited(const delivery::PaceKey& key, TimeMs now,
                                                   TimeMs started_ms) override;
  std::vector<delivery::PaceChange> recover(TimeMs now) override;
  std::optional<TimeMs> next_recovery_at() const override;
  std::vector<delivery::PaceStatus> status() const override;
  void restore(const delivery::PaceKey& key, double rate, TimeMs next_step_at, TimeMs now) override;

  // Tokens asked of Redis at once: a tenth of a second's worth, at least one, at most the burst.
  static std::uint32_t tokens_to_ask(const delivery::PaceRule& rule);
  // The rule a node pacing alone applies: rate, burst and connections divided by `nodes`.
  static delivery::PaceRule alone(const delivery::PaceRule& rule, std::uint32_t nodes);

 private:
  enum class Held { Uncounted, Local, Shared };
  struct Connection {
    Held held = Held::Uncounted;
    std::string member;  // the lease, when Shared
  };
  struct Dest {
    delivery::PaceRule rule;
    std::int64_t tokens = 0;  // granted by Redis, usable until tokens_until
    TimeMs tokens_until = 0;
    TimeMs unlimited_until = 0;      // no rate in force fleet-wide: no tokens needed until then
    std::vector<std::string> slots;  // leases granted for connections not opened yet
    TimeMs slots_until = 0;
    bool asking = false;
    TimeMs asked_at = 0;
    TimeMs retry_at = 0;      // Redis said: nothing before this
    double backoff_rate = 0;  // the shared back-off as last seen (0 = none)
    TimeMs next_step_at = 0;
    std::deque<Connection> open;
    delivery::GrantWindow grants;
    TimeMs last_used = 0;
  };

  bool shared(TimeMs now) const;
  bool sharing(TimeMs now);  // shared(), noticing a change of mode
  Dest& dest(const delivery::PaceKey& key, TimeMs now);
  delivery::PaceKey alone_key(const delivery::PaceKey& key) const;
  delivery::PaceDecision acquire_alone(const delivery::PaceKey& key, Dest& d, TimeMs now,
                                       bool new_connection);
  void ask(const delivery::PaceKey& key, Dest& d, TimeMs now, bool need_token, bool need_slot);
  void granted(const std::string& name, const std::string& member, cluster::Replies replies);
  void halved(const std::string& name, cluster::Replies replies);
  void see_backoff(const std::string& name, Dest& d, double rate, TimeMs next_step_at);
  void release_slots(const std::string& name, Dest& d);  // leases granted but not taken
  void failed(TimeMs now);
  void reconcile(TimeMs now);
  void renew(TimeMs now);
  void housekeeping(TimeMs now);
  std::string next_member();
  // Sends commands; `done` (if any) runs on the I/O thread while this limiter lives. The link
  // gives up on them after `deadline_ms`.
  void send(std::vector<cluster::Argv> commands, std::function<void(cluster::Replies)> done,
            TimeMs deadline_ms);

  cluster::RedisLink& link_;
  boost::asio::any_io_executor executor_;
  SharedPaceOptions options_;
  std::function<void()> wake_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // replies posted after it are dropped
  delivery::LocalPaceLimiter alone_;                            // while Redis is away
  std::map<std::string, Dest, std::less<>> dests_;
  std::vector<delivery::PaceChange> changes_;  // seen in replies, reported by recover()
  TimeMs degraded_until_ = 0;                  // a call failed: alone until then at least
  bool was_shared_ = false;
  bool ever_shared_ = false;
  bool warned_ = false;  // a bad answer was logged; again only after a good one
  TimeMs next_renew_ = 0;
  TimeMs next_housekeeping_ = 0;
  std::uint64_t sequence_ = 0;
};

}  // namespace ferry::daemon
