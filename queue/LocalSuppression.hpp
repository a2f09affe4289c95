// LocalSuppression: the suppression lookup answered from this queue's `suppression` table.
// Contract: find() is one read transaction (never blocks the queue writer); an entry older than
// the ttl, or a table that cannot be read, refuses nothing. set_ttl() may be called from any thread.
#pragma once

#include <atomic>

#include "ferry/Suppression.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::queue {

class LocalSuppression final : public SuppressionLookup {
 public:
  // `store` must outlive this object.
  LocalSuppression(const QueueStore& store, TimeMs ttl_ms) : store_(store), ttl_ms_(ttl_ms) {}

  std::optional<SuppressionEntry> find(std::string_view address, TimeMs now) const override {
    auto e = store_.suppression_get(address);
    if (!e || !*e || (*e)->expired(now, ttl())) return std::nullopt;
    return std::move(**e);
  }

  TimeMs ttl() const { return ttl_ms_.load(std::memory_order_relaxed); }
  void set_ttl(TimeMs ttl_ms) { ttl_ms_.store(ttl_ms, std::memory_order_relaxed); }

 private:
  const QueueStore& store_;
  std::atomic<TimeMs> ttl_ms_;
};

}  // namespace ferry::queue
