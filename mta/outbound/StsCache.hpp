// StsCache: each recipient domain's MTA-STS policy (RFC 8461) for the delivery agent, probe and
// `ferry sts`: the `_mta-sts` TXT lookup, the HTTPS fetch of the policy, and the cache kept in
// the queue's `sts` table (it survives restarts), refreshed before expiry; in a fleet, the
// policies other nodes fetched (SharedStsStore) before a fetch of its own.
// Contract: runs on one I/O thread; never throws; a fetch that fails keeps the cached policy and
// backs off (RFC 8461 §3.3); with no valid record and nothing cached the domain has no policy.
// A shared policy is used only for the TXT id published now and while unexpired; the local
// table stays the fallback, and without the shared store everything works as on one node.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "mta/config/Config.hpp"
#include "mta/delivery/Random.hpp"
#include "mta/delivery/StsPolicy.hpp"
#include "mta/net/Resolver.hpp"
#include "mta/outbound/SharedStsStore.hpp"
#include "queue/PolicyCache.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

// One policy fetch (RFC 8461 §3.3): https://mta-sts.<domain>/.well-known/mta-sts.txt with a
// verified certificate, 200 and text/plain only, no redirects, 64 KiB, 10 s.
struct StsFetch {
  bool ok = false;
  std::string text;            // the policy as served
  delivery::StsPolicy policy;  // parsed, when ok
  std::string error;           // why not, when !ok
};
boost::asio::awaitable<StsFetch> fetch_sts_policy(const boost::asio::any_io_executor& executor,
                                                  net::Resolver& resolver, boost::asio::ssl::context& tls,
                                                  const std::string& domain, std::uint16_t port);

// What applies to one domain now, and how it was found (for the log, probe and `ferry sts`).
struct StsOutcome {
  std::optional<delivery::StsPolicy> policy;       // nullopt: no MTA-STS for this domain
  std::string txt_id;                              // the id published now ("" when none / lookup failed)
  std::string txt_note;                            // the TXT lookup's result in words
  std::optional<queue::PolicyCacheRecord> cached;  // the cache entry after this lookup
  std::string source;                              // "cached", "fetched", "shared", "none"
  std::string problem;                             // a failed fetch or a bad policy, when there was one
};

class StsCache {
 public:
  // `persist` writes an entry (the daemon: through the CommitBatcher; the CLI: directly).
  // `shared`: the fleet's policies (the daemon with [cluster]); null = this node alone.
  using Persist = std::function<void(const queue::PolicyCacheRecord&)>;
  StsCache(boost::asio::any_io_executor executor, std::shared_ptr<net::Resolver> resolver,
           queue::QueueStore* store, Persist persist, config::MtaStsSection config,
           std::shared_ptr<SharedStsStore> shared = nullptr);

  // Arguments are references the caller keeps alive until the await ends: no temporaries in
  // co_await expressions (GCC 12 destroys some twice).
  // The policy for `domain` (lower case) as a delivery applies it: TXT, then the cache or a fetch.
  boost::asio::awaitable<StsOutcome> policy_for(const std::string& domain);
  // Fetches anew whatever the TXT id says (`ferry sts refresh`, the proactive refresh).
  boost::asio::awaitable<StsOutcome> refresh(const std::string& domain);
  // Forever (until stop): every minute, refreshes the cached policies whose refresh time came.
  boost::asio::awaitable<void> refresh_loop();
  void stop();
  void reconfigure(config::MtaStsSection config);
  // `ferry sts refresh|forget` in another process changed the table: read it again.
  void forget_all() { memory_.clear(); }

 private:
  std::optional<delivery::StsCached> cached(const std::string& domain);
  void store(const std::string& domain, const delivery::StsCached& entry);
  // Why a lookup runs: a delivery, a forced fetch (`ferry sts refresh`), or the proactive
  // refresh, which takes a policy another node refreshed since instead of fetching it again.
  enum class Lookup { Delivery, Force, Refresh };
  boost::asio::awaitable<StsOutcome> lookup(const std::string& domain, Lookup why);
  boost::asio::awaitable<void> fetch_into(const std::string& domain, StsOutcome& out,
                                          std::optional<delivery::StsCached>& entry);
  boost::asio::awaitable<bool> adopt_shared(const std::string& domain, bool refreshing, StsOutcome& out,
                                            std::optional<delivery::StsCached>& entry);
  void publish(const std::string& domain, const delivery::StsCached& entry);
  boost::asio::ssl::context* tls();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<net::Resolver> resolver_;
  queue::QueueStore* store_;
  Persist persist_;
  config::MtaStsSection config_;
  std::shared_ptr<SharedStsStore> shared_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::map<std::string, delivery::StsCached> memory_;
  std::shared_ptr<std::mt19937_64> engine_;
  delivery::RandomSource rand_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
};

// The cache entry as the queue stores it, and back.
queue::PolicyCacheRecord to_record(const std::string& domain, const delivery::StsCached& entry);
delivery::StsCached from_record(const queue::PolicyCacheRecord& record);

}  // namespace ferry::outbound
