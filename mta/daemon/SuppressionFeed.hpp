// SuppressionFeed: the shared suppression list coming in — tails the Redis stream
// ferry:suppression on a connection and thread of its own and writes other nodes' entries (and
// removals) into the local table through the queue writer.
// Contract: RCPT never waits on it (RCPT reads only the local table). The cursor (the last
// stream id applied) is kept in <queue>/cluster-suppression and saved only after the entries
// are committed, so a node that was down catches up from where it stopped; an entry applied
// twice is written twice, harmlessly. A node's own entries are already local and are skipped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mta/cluster/SuppressionStream.hpp"
#include "mta/config/Config.hpp"
#include "queue/CommitBatcher.hpp"

namespace ferry::daemon {

class SuppressionFeed {
 public:
  SuppressionFeed(queue::CommitBatcher& batcher, const config::ClusterSection& cluster, std::string password,
                  std::string node_name, std::string cursor_path);
  ~SuppressionFeed();
  void start();
  void stop();  // returns within about one XREAD block (500 ms)

 private:
  void run();
  bool apply(const std::vector<cluster::SuppressionEvent>& events);
  std::string load_cursor() const;
  void save_cursor(const std::string& id) const;
  bool pause(std::chrono::milliseconds d);  // false when stopping

  queue::CommitBatcher& batcher_;
  config::RedisEndpoint endpoint_;
  std::string password_;
  std::string node_name_;
  std::string cursor_path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ferry::daemon
