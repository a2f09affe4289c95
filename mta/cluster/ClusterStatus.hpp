// ClusterStatus: what `ferry cluster status` shows — the live nodes (heartbeat keys) and the
// Redis round-trip — read over its own short-lived connection.
// Contract: synchronous, each over its own short-lived connection; bounded (at most kMaxNodes nodes,
// kMaxScans SCAN calls); an error of kind Unavailable when Redis cannot be reached.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/cluster/NodeRecord.hpp"
#include "mta/cluster/SuppressionStream.hpp"
#include "mta/config/Config.hpp"

namespace ferry::cluster {

inline constexpr std::size_t kMaxNodes = 1000;
inline constexpr int kMaxScans = 1000;

struct ClusterView {
  double latency_seconds = 0;     // one PING
  std::vector<NodeRecord> nodes;  // by name
};

// `password` already read from password_file (empty = none); `timeout` per command.
Result<ClusterView> read_cluster(const config::ClusterSection& cluster, const std::string& password,
                                 std::chrono::milliseconds timeout);

// One command over its own short-lived connection (what `ferry suppress` and `ferry sts` share
// with the fleet); a Redis error reply is an error of kind Invalid.
Result<Reply> run_command(const config::ClusterSection& cluster, const std::string& password,
                          const Argv& argv, std::chrono::milliseconds timeout);

// [cluster] password_file: its first line. A regular file, not a symbolic link, not readable by
// others, at most 4 KiB; read before privileges drop. The password is never in an error.
Result<std::string> read_redis_password(const std::string& path);

}  // namespace ferry::cluster
