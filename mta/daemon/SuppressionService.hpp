// SuppressionService: the daemon's suppression list — the lookup given to the SMTP server (and
// any other submission path) and the delivery agent, its ttl, and the periodic purge.
// Contract: lives on the I/O thread; the lookup reads the queue's table (queue/LocalSuppression);
// the purge goes through the queue writer like every other write.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Suppression.hpp"
#include "mta/config/Config.hpp"
#include "mta/ops/Metrics.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/LocalSuppression.hpp"

namespace ferry::daemon {

class SuppressionService {
 public:
  // `store`, `batcher` and `metrics` must outlive the service.
  SuppressionService(const queue::QueueStore& store, queue::CommitBatcher& batcher, ops::Metrics& metrics,
                     const config::Config& config);

  // What the delivery agent asks before an attempt.
  std::shared_ptr<const SuppressionLookup> lookup() const { return local_; }
  // The RCPT hook (SmtpServerDeps::recipient_refusal): the refusal line for a live entry,
  // logged and counted; nullopt otherwise. Any submission path that accepts recipients uses it.
  std::function<std::optional<std::string>(std::string_view address)> recipient_refusal() const;
  // SIGHUP: the new ttl applies to every entry at once.
  void reconfigure(const config::Config& config);
  // Deletes expired entries (a bounded number per call) in one queued write; logs how many.
  void purge();

 private:
  std::shared_ptr<queue::LocalSuppression> local_;
  queue::CommitBatcher& batcher_;
  ops::Metrics& metrics_;
};

}  // namespace ferry::daemon
