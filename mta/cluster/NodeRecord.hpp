// NodeRecord: a node's heartbeat in Redis — the hash ferry:node:<name> — and its reading back.
// Contract: pure; encode gives the commands that write the hash and its TTL atomically
// (MULTI/EXEC), decode reads an HGETALL reply and ignores fields it does not know; numbers out
// of range or missing read as 0 (a heartbeat is another node's word, not trusted input).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mta/cluster/RedisConnection.hpp"

namespace ferry::cluster {

inline constexpr const char* kNodeKeyPrefix = "ferry:node:";

struct NodeRecord {
  std::string name;
  std::uint64_t queue_messages = 0;
  std::uint64_t queue_recipients = 0;
  std::uint64_t deliveries_per_minute = 0;
  std::string version;
  std::int64_t started_at = 0;  // Unix seconds
  std::int64_t updated_at = 0;  // Unix seconds, this heartbeat
  bool operator==(const NodeRecord&) const = default;
};

std::string node_key(const std::string& name);
// MULTI, HSET key field value..., PEXPIRE key ttl, EXEC.
std::vector<Argv> encode_heartbeat(const NodeRecord& record, std::chrono::milliseconds ttl);
// The record in an HGETALL reply (an array of field, value, ...); nullopt when it is not one.
std::optional<NodeRecord> decode_node(const std::string& name, const Reply& hgetall);

}  // namespace ferry::cluster
