// DeliveryAgent: drains the queue to the recipients' MX hosts (or routes), retries transient
// failures on the RetrySchedule, expires recipients at max age, and settles every result.
// Contract: an attempt is leased (recorded) in the queue before it is made; results are settled
// in one queue transaction per ClientDone; a permanent failure and its RFC 3464 bounce (and any
// delay warning or success report) are written in that same transaction.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Result.hpp"
#include "ferry/Suppression.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/PaceLimiter.hpp"
#include "mta/delivery/RoutePlan.hpp"
#include "mta/delivery/TlsReport.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/net/Resolver.hpp"
#include "mta/outbound/SharedStsStore.hpp"
#include "mta/outbound/TlsOutcome.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

struct DeliveryDeps {
  const config::Config* config = nullptr;
  std::vector<delivery::RouteRule> routes;  // route_rules(*config): passwords already read
  std::string hostname;
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  std::shared_ptr<net::Resolver> resolver;
  std::vector<std::pair<std::string, std::uint16_t>> own_listeners;  // ip, port (mail loops)
  // Our [[dkim]] signer: a message converted to 7 bits for a server without 8BITMIME is signed
  // again when it carries our signature. Null = none.
  std::shared_ptr<const dkim::DkimSigner> dkim;
  std::function<void(double delay_seconds)> on_delivered;  // per delivered recipient (metrics)
  // Per deferred or bounced (incl. expired) recipient, with the reply's category (metrics).
  std::function<void(bool bounced, std::string_view category)> on_failed;
  // Per TLS session attempt to a recipient domain's MX (RFC 8460 TLS Reporting): success, or the
  // failure's result type, under the policy that applied. Empty = not reported.
  std::function<void(const delivery::TlsOutcome&)> on_tls_outcome;
  // The suppression list, asked before each recipient is attempted (when [suppression] enabled):
  // a listed address fails at once (5.1.1) with a bounce naming the suppression. Null = none.
  std::shared_ptr<const SuppressionLookup> suppression;
  std::function<void()> on_suppressed;  // per recipient failed so (metrics)
  // The entries a settle put on the suppression list, once committed (shared with other nodes).
  std::function<void(const std::vector<SuppressionEntry>&)> on_suppressions_recorded;
  // [[pace]] shared by a fleet: makes the limiter, given the agent's wake-up (on the I/O thread:
  // a destination held back may be asked again). Empty = each node paces alone, in memory.
  std::function<std::unique_ptr<delivery::PaceLimiter>(std::function<void()> wake)> pace_limiter;
  // The MTA-STS policies other nodes fetched, asked before a fetch of our own (the daemon with
  // [cluster]: Redis). Null = this node alone.
  std::shared_ptr<SharedStsStore> shared_sts;
};

struct DeliveryStats {
  std::uint64_t delivered = 0;
  std::uint64_t deferred = 0;
  std::uint64_t bounced = 0;
  std::uint64_t expired = 0;
  std::uint64_t connections = 0;
  std::uint64_t active_connections = 0;
  std::uint64_t reports = 0;  // DSNs (failure, delay, success reports) queued
};

class DeliveryAgent {
 public:
  DeliveryAgent(boost::asio::io_context& io, DeliveryDeps deps);
  ~DeliveryAgent();

  // Loads the soonest-due window of the queue's due index into the scheduler and starts
  // dispatching (the rest of a big queue is read as the window drains).
  Result<void> start();
  // A message was just committed: its recipients are due now.
  void message_queued(QueueId id);
  // The queue was changed by another process (`ferry queue flush/hold/release/delete`, a direct
  // enqueue by sendmail): re-read the soonest-due window now (there is only a slow safety re-read).
  void queue_changed();
  // SIGHUP: from now on use this configuration (it must outlive the agent) and these routes:
  // retry schedule, routes, delivery port, timeouts, connection limits and [bounce] settings;
  // the interface addresses (mail loops) are read again too.
  void reconfigure(const config::Config* config, std::vector<delivery::RouteRule> routes);
  // SIGHUP: the [[dkim]] keys as reloaded (for re-signing converted messages).
  void set_dkim(std::shared_ptr<const dkim::DkimSigner> dkim);
  // Stops taking new work; in-flight deliveries finish (bounded by `grace`), then `done` runs.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);
  DeliveryStats stats() const;
  // [[pace]]: every paced destination's rate in force, back-off and open connections.
  std::vector<delivery::PaceStatus> pace_status() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ferry::outbound
