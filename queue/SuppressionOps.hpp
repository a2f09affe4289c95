// SuppressionOps: the `suppression` table of the queue — one entry per suppressed address, keyed
// by suppression_key(), with its versioned encoding.
// Contract: ops run inside a transaction the caller owns and never commit; a settle writes its
// entries with the failures they come from. Expiry is the caller's ttl: the table stores times.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Suppression.hpp"
#include "queue/TxnOps.hpp"

namespace ferry::queue::ops {

inline constexpr std::uint8_t kSuppressionVersion = 1;
std::string encode_suppression(const SuppressionEntry& e);
Result<SuppressionEntry> decode_suppression(std::string_view key, std::string_view value);

// Writes (or replaces) the entry of e.address's key; the address and the reply are bounded.
Result<void> suppression_put(Ctx& c, const SuppressionEntry& e);
// A settle's entries (SettleRequest::suppress), each written as suppression_put().
Result<void> settle_suppressions(Ctx& c, const std::vector<SuppressionEntry>& entries);
Result<std::optional<SuppressionEntry>> suppression_get(Ctx& c, std::string_view address);
Result<bool> suppression_erase(Ctx& c, std::string_view address);
// Every decodable entry in key order (an undecodable one is skipped: `ferry suppress remove`
// or the purge clears it).
Result<std::vector<SuppressionEntry>> suppression_list(Ctx& c);
// Deletes up to `limit` entries at least `ttl_ms` old at `now` (and undecodable ones); returns
// how many went. Bounded so one purge never makes a huge write transaction.
Result<std::size_t> suppression_purge(Ctx& c, TimeMs now, TimeMs ttl_ms, std::size_t limit);

}  // namespace ferry::queue::ops
