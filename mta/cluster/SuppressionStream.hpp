// SuppressionStream: the suppression list shared through the Redis stream ferry:suppression —
// one message per entry recorded or removed on any node — encoded and read back.
// Contract: pure. encode gives the XADD (trimmed to about kStreamMaxLen messages); decode reads
// an XREAD reply as another node's words: ids, addresses and texts are checked and bounded, a
// message that fails is skipped (its id still advances the cursor).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ferry/Suppression.hpp"
#include "mta/cluster/RedisConnection.hpp"

namespace ferry::cluster {

inline constexpr const char* kSuppressionStream = "ferry:suppression";
inline constexpr std::size_t kStreamMaxLen = 100'000;
inline constexpr std::size_t kReadCount = 100;

struct SuppressionEvent {
  std::string node;      // the node (or CLI host) that published it
  bool removed = false;  // a tombstone: `ferry suppress remove`
  SuppressionEntry entry;
};

Argv encode_suppression_event(const SuppressionEvent& event);
// XREAD COUNT kReadCount BLOCK block_ms STREAMS ferry:suppression <after>.
Argv read_suppression_events(const std::string& after, long block_ms);

struct StreamBatch {
  std::vector<SuppressionEvent> events;
  std::string last_id;  // the last id seen (valid ones only), empty = none
  std::size_t skipped = 0;
};
// nil (BLOCK timed out) is an empty batch; anything not shaped like XREAD's reply is an error.
Result<StreamBatch> decode_suppression_events(const Reply& xread);
// "0" or "<ms>-<seq>": what may be given back to XREAD as a cursor.
bool valid_stream_id(const std::string& id);

}  // namespace ferry::cluster
