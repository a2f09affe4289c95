// FleetShare: see FleetShare.hpp.
#include "mta/cli/FleetShare.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "mta/cluster/ClusterStatus.hpp"

namespace ferry::cli {

namespace {

std::string system_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

Result<std::optional<FleetShare>> fleet_share(const config::Config& config) {
  if (!config.cluster) return std::optional<FleetShare>();
  FleetShare f{*config.cluster, "", config::effective_node_name(*config.cluster, system_host_name())};
  if (!f.cluster.password_file.empty()) {
    auto read = cluster::read_redis_password(f.cluster.password_file);
    if (!read) return read.error();
    f.password = std::move(*read);
  }
  return std::optional<FleetShare>(std::move(f));
}

std::optional<cluster::Reply> share_with_fleet(const FleetShare& fleet, const cluster::Argv& argv,
                                               const char* command) {
  auto r = cluster::run_command(fleet.cluster, fleet.password, argv, std::chrono::milliseconds(2000));
  if (r) return std::move(*r);
  std::fprintf(stderr, "ferry: %s: warning: not shared with the other nodes (redis %s: %s)\n", command,
               fleet.cluster.endpoint.where().c_str(), r.error().message.c_str());
  return std::nullopt;
}

}  // namespace ferry::cli
