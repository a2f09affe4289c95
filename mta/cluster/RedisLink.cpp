// RedisLink: see RedisLink.hpp.
#include "mta/cluster/RedisLink.hpp"

#include <cstdio>

#include "mta/ops/Log.hpp"

namespace ferry::cluster {
namespace {

// Connecting may take longer than a command's timeout (a cold TCP handshake) without holding
// any caller up: callers are refused at once while the link is down.
std::chrono::milliseconds connect_timeout(std::chrono::milliseconds timeout) {
  return std::max(timeout, std::chrono::milliseconds(500));
}

Error unavailable(std::string why) { return make_error(ErrorKind::Unavailable, std::move(why)); }

}  // namespace

RedisLink::RedisLink(LinkOptions options) : options_(std::move(options)) {}

RedisLink::~RedisLink() { stop(); }

void RedisLink::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void RedisLink::stop() {
  std::deque<Request> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(queue_);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& r : left) r.done(unavailable("the Redis link is stopping"));
}

void RedisLink::submit(std::vector<Argv> commands, LinkClock::time_point deadline, Done done) {
  if (!up_.load()) return done(unavailable("Redis is unreachable"));
  {
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      return done(unavailable("the Redis link is stopping"));
    }
    if (queue_.size() >= options_.max_queue) {
      lock.unlock();
      return done(unavailable("the Redis request queue is full"));
    }
    queue_.push_back(Request{std::move(commands), deadline, std::move(done)});
  }
  wake_.notify_one();
}

void RedisLink::run() {
  auto backoff = options_.backoff_first;
  for (;;) {
    if (!ensure_connected(backoff)) {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, backoff, [this] { return stopping_; })) return;
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    std::unique_lock lock(mutex_);
    const bool woken =
        wake_.wait_for(lock, options_.idle_ping, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    if (!woken) {
      lock.unlock();
      ping();
      continue;
    }
    Request request = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    serve(std::move(request));
  }
}

// Connected now, or false after one failed attempt (logged once per outage).
bool RedisLink::ensure_connected(std::chrono::milliseconds& backoff) {
  if (conn_ && !conn_->broken()) return true;
  conn_.reset();
  auto conn =
      RedisConnection::connect(options_.endpoint, options_.password, connect_timeout(options_.timeout));
  if (!conn) {
    went_down(conn.error().message);
    return false;
  }
  conn_ = std::move(*conn);
  backoff = options_.backoff_first;
  ping();
  return conn_ != nullptr;
}

void RedisLink::serve(Request request) {
  if (LinkClock::now() >= request.deadline)
    return request.done(unavailable("Redis request past its deadline"));
  auto replies = conn_->pipeline(request.commands);
  if (!replies && conn_->broken()) went_down(replies.error().message);
  request.done(std::move(replies));
}

void RedisLink::ping() {
  const auto start = LinkClock::now();
  auto r = conn_->command({"PING"});
  if (!r || r->is_error()) {
    went_down(r ? r->text.substr(0, 200) : r.error().message);
    if (r) conn_.reset();  // answered, but not as Redis answers PING: reconnect
    return;
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(LinkClock::now() - start).count();
  latency_us_.store(us);
  if (!up_.exchange(true)) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f ms", static_cast<double>(us) / 1000.0);
    ops::log_info("cluster: redis up (" + options_.endpoint.where() + ", " + ms + ")");
    logged_down_ = false;
  }
}

void RedisLink::went_down(const std::string& why) {
  const bool was_up = up_.exchange(false);
  if (was_up || !logged_down_)
    ops::log_warning("cluster: redis unreachable (" + options_.endpoint.where() + ": " + why +
                     "): falling back to local state");
  logged_down_ = true;
  // What waits in the queue would only wait for its deadline: it fails now.
  std::deque<Request> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& r : left) r.done(unavailable("Redis is unreachable"));
}

}  // namespace ferry::cluster
