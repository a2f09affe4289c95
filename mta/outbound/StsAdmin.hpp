// StsAdmin: `ferry sts refresh` done by the command itself: the TXT lookup and the policy fetch
// with the configuration's DNS servers and [mta_sts] trust, written to the queue's sts table.
// Contract: blocks until done (bounded by the DNS and HTTPS deadlines); the caller has opened
// the queue as its owner and wakes the daemon afterwards so it reads the table again.
#pragma once

#include <optional>
#include <string>

#include "mta/config/Config.hpp"
#include "queue/PolicyCache.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

struct StsRefreshReport {
  std::string txt_note;   // the TXT lookup in words
  std::string source;     // "fetched", "cached" (the fetch failed), "none"
  std::string problem;    // why a fetch failed, when it did
  bool in_force = false;  // a policy (enforce or testing) applies to the domain now
  std::optional<queue::PolicyCacheRecord> cached;
};

StsRefreshReport sts_refresh_now(const config::Config& config, queue::QueueStore& store,
                                 const std::string& domain);

}  // namespace ferry::outbound
