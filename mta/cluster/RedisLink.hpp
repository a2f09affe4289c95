// RedisLink: the node's one link to Redis — a dedicated thread owning a synchronous connection,
// fed through a bounded queue of requests (each a few argv commands with a deadline).
// Contract: submit() never blocks: while Redis is down, when the queue is full or once the
// deadline has passed, the request fails with ErrorKind::Unavailable (at once, or as soon as
// the thread sees it). The thread reconnects with capped backoff (AUTH and SELECT each time),
// PINGs when idle to measure latency and notice an outage, and logs each up/down change once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mta/cluster/RedisConnection.hpp"

namespace ferry::cluster {

using LinkClock = std::chrono::steady_clock;
using Replies = Result<std::vector<Reply>>;

struct LinkOptions {
  config::RedisEndpoint endpoint;
  std::string password;  // empty = no AUTH
  std::chrono::milliseconds timeout{50};
  std::size_t max_queue = 1024;
  std::chrono::milliseconds idle_ping{1000};
  std::chrono::milliseconds backoff_first{100};
  std::chrono::milliseconds backoff_max{2000};
};

class RedisLink {
 public:
  // Called exactly once, on the link's thread or (refused at once) on the caller's.
  using Done = std::function<void(Replies)>;

  explicit RedisLink(LinkOptions options);
  ~RedisLink();  // stop()
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void start();
  // Fails what is still queued (Unavailable) and joins the thread.
  void stop();
  void submit(std::vector<Argv> commands, LinkClock::time_point deadline, Done done);

  bool up() const { return up_.load(); }
  double latency_seconds() const { return latency_us_.load() / 1e6; }
  std::chrono::milliseconds timeout() const { return options_.timeout; }

 private:
  struct Request {
    std::vector<Argv> commands;
    LinkClock::time_point deadline;
    Done done;
  };
  void run();
  bool ensure_connected(std::chrono::milliseconds& backoff);
  void serve(Request request);
  void ping();
  void went_down(const std::string& why);

  LinkOptions options_;
  std::unique_ptr<RedisConnection> conn_;  // the thread's only
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::atomic<bool> up_{false};
  std::atomic<long long> latency_us_{0};
  bool logged_down_ = false;  // the thread's only: one "unreachable" line per outage
  std::thread thread_;
};

}  // namespace ferry::cluster
