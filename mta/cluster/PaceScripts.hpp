// PaceScripts: the fleet's shared pacing state in Redis — one Lua script per decision, each
// atomic on the keys of one destination, with Redis's own clock as the one time base.
// Contract: pure (commands in, replies out); a destination's state is a GCRA "theoretical
// arrival time" (ferry:pace:{name}:tat), a sorted set of connection leases scored by expiry
// (…:conn) and a back-off hash (…:backoff) whose rate recovers lazily (x1.5 per period up to its
// base), so nothing has to run on a timer for a back-off to end. Replies are another process's
// word: decoding checks every field and refuses what is not a number in range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/cluster/RedisConnection.hpp"
#include "mta/cluster/RedisReply.hpp"

namespace ferry::cluster {

// The three keys of a destination. The name sits in a hash tag so that a Redis Cluster would
// keep them on one shard (a script may only touch keys of one slot there).
std::string pace_tat_key(const std::string& name);
std::string pace_conn_key(const std::string& name);
std::string pace_backoff_key(const std::string& name);

// Tokens and/or a connection slot for one destination.
struct PaceTake {
  std::string name;        // the destination (PaceKey::name)
  double rate = 0;         // the configured rate in messages per second; 0 = none
  double burst = 1;        // the configured burst (tokens the bucket holds)
  std::uint32_t want = 0;  // tokens asked for; 0 = none (a slot alone)
  bool want_slot = false;
  std::uint32_t slot_limit = 0;  // the rule's connections (with want_slot)
  std::int64_t lease_ms = 30'000;
  std::string member;  // the lease's name in the set (node name and a sequence number)
};

struct PaceGrant {
  // Tokens granted (up to `want`); -1 = no rate in force (neither configured nor backed off):
  // the caller may send without tokens for a while.
  std::int64_t tokens = 0;
  std::int64_t wait_ms = 0;       // with no tokens: when one will be there (or a slot may be free)
  bool slot = false;              // the slot was taken (the lease is in the set)
  bool slot_full = false;         // asked for a slot and every one is leased
  double backoff_rate = 0;        // the shared back-off's rate now; 0 = not backed off
  std::int64_t next_step_at = 0;  // Unix ms of its next recovery step (0 = none)
};

std::vector<Argv> encode_take(const PaceTake& take);
Result<PaceGrant> decode_take(const Reply& reply);

// A "slow down" reply to a delivery started at `started_ms` (Unix ms): the shared rate halves
// unless another node halved it after that delivery started, or less than `min_gap_ms` ago.
struct PaceHalve {
  std::string name;
  std::int64_t started_ms = 0;
  double base = 0;  // the rate a recovery returns to: the configured one, or the fleet's observed
  std::int64_t period_ms = 600'000;
  std::int64_t min_gap_ms = 1000;
};

struct PaceHalved {
  bool changed = false;
  double rate = 0;  // the shared back-off's rate after the call; 0 = not backed off
  std::int64_t next_step_at = 0;
};

std::vector<Argv> encode_halve(const PaceHalve& halve);
Result<PaceHalved> decode_halve(const Reply& reply);

// After an outage: a back-off a node reached alone lowers the shared one when it is lower.
std::vector<Argv> encode_merge(const std::string& name, double rate, double base, std::int64_t period_ms);

// Every lease (destination name, member) held by this node, written again with a new expiry
// (renewal, or the connections a node opened while Redis was away).
std::vector<Argv> encode_leases(const std::vector<std::pair<std::string, std::string>>& leases,
                                std::int64_t lease_ms);
std::vector<Argv> encode_release(const std::string& name, const std::string& member);

// A rate as the scripts take it (and Lua reads back exactly).
std::string format_pace_number(double value);

}  // namespace ferry::cluster
