// FleetShare: how a command tells the other nodes of a [cluster] fleet what it changed locally —
// the Redis password read with the rights the command started with, this node's name, and one
// Redis command sent over a short-lived connection.
// Contract: the local change is the one that counts; a command Redis did not take is a warning
// on stderr ("not shared with the other nodes"), never a failure of the command.
#pragma once

#include <optional>
#include <string>

#include "ferry/Result.hpp"
#include "mta/cluster/RedisConnection.hpp"
#include "mta/config/Config.hpp"

namespace ferry::cli {

struct FleetShare {
  config::ClusterSection cluster;
  std::string password;   // empty = no AUTH
  std::string node_name;  // [cluster] node_name, or the system host name
};

// nullopt without [cluster]; an error when the password_file cannot be read (call it before
// switching to the queue's owner).
Result<std::optional<FleetShare>> fleet_share(const config::Config& config);

// Sends `argv` (2 s at most); on failure prints the warning for `command` and returns nullopt.
std::optional<cluster::Reply> share_with_fleet(const FleetShare& fleet, const cluster::Argv& argv,
                                               const char* command);

}  // namespace ferry::cli
