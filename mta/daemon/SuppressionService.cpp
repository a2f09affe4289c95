// SuppressionService: see SuppressionService.hpp.
#include "mta/daemon/SuppressionService.hpp"

#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::daemon {

namespace {
// Entries deleted per purge: one purge stays a small write transaction; the next takes the rest.
constexpr std::size_t kPurgeBatch = 10'000;
}  // namespace

SuppressionService::SuppressionService(const queue::QueueStore& store, queue::CommitBatcher& batcher,
                                       ops::Metrics& metrics, const config::Config& config)
    : local_(std::make_shared<queue::LocalSuppression>(store, config.suppression.ttl.count())),
      batcher_(batcher),
      metrics_(metrics) {}

std::function<std::optional<std::string>(std::string_view)> SuppressionService::recipient_refusal() const {
  return [local = local_, &metrics = metrics_](std::string_view address) -> std::optional<std::string> {
    auto entry = local->find(address, now_ms());
    if (!entry) return std::nullopt;
    metrics.count_suppressed(true);
    // The address is the client's: the log escapes it (ops/Log.hpp).
    ops::log_info("suppressed: RCPT <" + std::string(address) + "> refused (" + entry->category + " on " +
                  suppression_day(entry->time_ms) + ")");
    return suppression_refusal(address, *entry);
  };
}

void SuppressionService::reconfigure(const config::Config& config) {
  local_->set_ttl(config.suppression.ttl.count());
}

void SuppressionService::purge() {
  const TimeMs now = now_ms();
  const TimeMs ttl = local_->ttl();
  auto purged = std::make_shared<std::size_t>(0);
  batcher_.submit(
      [now, ttl, purged](queue::WriteTxn& t) -> Result<void> {
        auto n = t.suppression_purge(now, ttl, kPurgeBatch);
        if (!n) return n.error();
        *purged = *n;
        return {};
      },
      [purged](Result<void> done) {
        if (!done)
          ops::log_warning("suppression purge: " + done.error().message);
        else if (*purged > 0)
          ops::log_info("suppression: " + std::to_string(*purged) + " expired entries purged");
      });
}

}  // namespace ferry::daemon
