// ClusterCommand: `ferry cluster status [--json]` — the nodes whose heartbeat keys are live in
// Redis, with their figures, and the Redis round trip; read over its own connection, with the
// same [cluster] settings as the daemon. Exit 69 (EX_UNAVAILABLE) when Redis cannot be reached.
#include <cstdio>
#include <string>

#include "ferry/JsonWriter.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/cluster/ClusterStatus.hpp"

namespace ferry::cli {
namespace {

constexpr int kExitUnavailable = 69;
// The CLI is not on a mail path: it may wait longer than the daemon's [cluster] timeout.
constexpr std::chrono::milliseconds kCliTimeout{2000};

void cluster_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry cluster [--config FILE] [--json] status\n"
      "  status   the nodes with a live heartbeat in Redis, their queues and rates, and the Redis latency\n",
      out);
}

void print_json(const cluster::ClusterView& v) {
  JsonWriter j;
  j.begin_object();
  j.key("redis_latency_us").value(static_cast<std::uint64_t>(v.latency_seconds * 1e6));
  j.key("nodes").begin_array();
  for (const auto& n : v.nodes) {
    j.begin_object();
    j.key("name").value(n.name);
    j.key("queue_messages").value(n.queue_messages);
    j.key("queue_recipients").value(n.queue_recipients);
    j.key("deliveries_per_minute").value(n.deliveries_per_minute);
    j.key("version").value(n.version);
    j.key("started_at").value(n.started_at);
    j.key("updated_at").value(n.updated_at);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  std::printf("%s\n", j.str().c_str());
}

void print_text(const cluster::ClusterView& v) {
  std::printf("redis latency: %.2f ms\n%zu node%s\n", v.latency_seconds * 1000.0, v.nodes.size(),
              v.nodes.size() == 1 ? "" : "s");
  for (const auto& n : v.nodes)
    std::printf("%-24s  messages %llu  recipients %llu  deliveries/min %llu  version %s  started %lld\n",
                n.name.c_str(), static_cast<unsigned long long>(n.queue_messages),
                static_cast<unsigned long long>(n.queue_recipients),
                static_cast<unsigned long long>(n.deliveries_per_minute), n.version.c_str(),
                static_cast<long long>(n.started_at));
}

}  // namespace

int cmd_cluster(const Args& raw) {
  CommonOptions common;
  Args args;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  bool json = false;
  Args positional;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "-h" || a == "--help") {
      cluster_usage(stdout);
      return kExitOk;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "ferry: cluster: unknown option '%s'\n", a.c_str());
      return kExitUsage;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 1 || positional[0] != "status") {
    cluster_usage(stderr);
    return kExitUsage;
  }
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  if (!config->cluster) {
    std::fprintf(stderr, "ferry: cluster: no [cluster] table in the configuration\n");
    return kExitConfig;
  }
  // The password is read with the rights the command was started with (root, like the daemon).
  std::string password;
  if (!config->cluster->password_file.empty()) {
    auto read = cluster::read_redis_password(config->cluster->password_file);
    if (!read) {
      std::fprintf(stderr, "ferry: cluster: %s\n", read.error().message.c_str());
      return kExitConfig;
    }
    password = std::move(*read);
  }
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: cluster: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  auto view = cluster::read_cluster(*config->cluster, password, kCliTimeout);
  if (!view) {
    std::fprintf(stderr, "ferry: cluster: redis %s: %s\n", config->cluster->endpoint.where().c_str(),
                 view.error().message.c_str());
    return view.error().kind == ErrorKind::Invalid ? kExitConfig : kExitUnavailable;
  }
  json ? print_json(*view) : print_text(*view);
  return kExitOk;
}

}  // namespace ferry::cli
