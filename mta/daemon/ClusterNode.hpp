// ClusterNode: the daemon's side of [cluster] — the Redis link and the heartbeat that writes
// ferry:node:<node_name> every `heartbeat` with a TTL of three heartbeats.
// Contract: only exists when [cluster] is configured; nothing in accepting or delivering waits
// on it. A heartbeat that could not be written is retried after a short pause (the link may
// just have come up); the key expires on its own when the node stops or dies.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mta/cluster/RedisLink.hpp"
#include "mta/cluster/SuppressionStream.hpp"
#include "mta/config/Config.hpp"

namespace ferry::daemon {

struct NodeFigures {
  std::uint64_t queue_messages = 0;
  std::uint64_t queue_recipients = 0;
  std::uint64_t delivered_total = 0;  // since start; the heartbeat turns it into a rate
};

class ClusterNode {
 public:
  // `password`: read from password_file by the caller, before privileges drop.
  ClusterNode(boost::asio::io_context& io, const config::ClusterSection& cluster, std::string node_name,
              std::string password, std::function<NodeFigures()> figures);
  ~ClusterNode();
  void start();
  void stop();
  cluster::RedisLink& link() { return link_; }
  // Publishes suppression entries (or removals) to the shared stream. Those Redis could not
  // take are kept (at most kMaxUnpublished) and sent again after the next good heartbeat.
  void publish(std::vector<cluster::SuppressionEvent> events);
  const std::string& node_name() const { return node_name_; }
  static constexpr std::size_t kMaxUnpublished = 10'000;

 private:
  void beat();
  void arm(std::chrono::milliseconds after);

  boost::asio::io_context& io_;
  config::ClusterSection cluster_;
  std::string node_name_;
  std::function<NodeFigures()> figures_;
  cluster::RedisLink link_;
  boost::asio::steady_timer timer_;
  std::int64_t started_at_ = 0;
  std::uint64_t last_delivered_ = 0;
  std::chrono::steady_clock::time_point last_beat_{};
  bool stopped_ = false;
  std::vector<cluster::SuppressionEvent> unpublished_;  // I/O thread only
};

}  // namespace ferry::daemon
