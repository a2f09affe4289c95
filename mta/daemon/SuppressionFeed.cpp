// SuppressionFeed: see SuppressionFeed.hpp.
#include "mta/daemon/SuppressionFeed.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <memory>

#include "mta/ops/Log.hpp"

namespace ferry::daemon {
namespace {

using namespace std::chrono_literals;

// XREAD blocks this long on the feed's own connection, whose socket timeout is longer; a new
// entry arrives at once, and stop() waits at most this.
constexpr long kBlockMs = 500;
constexpr auto kSocketTimeout = 2000ms;

}  // namespace

SuppressionFeed::SuppressionFeed(queue::CommitBatcher& batcher, const config::ClusterSection& cluster,
                                 std::string password, std::string node_name, std::string cursor_path)
    : batcher_(batcher),
      endpoint_(cluster.endpoint),
      password_(std::move(password)),
      node_name_(std::move(node_name)),
      cursor_path_(std::move(cursor_path)) {}

SuppressionFeed::~SuppressionFeed() { stop(); }

void SuppressionFeed::start() {
  thread_ = std::thread([this] { run(); });
}

void SuppressionFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SuppressionFeed::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void SuppressionFeed::run() {
  std::string cursor = load_cursor();
  std::unique_ptr<cluster::RedisConnection> conn;
  auto backoff = 100ms;
  while (pause(0ms)) {
    if (!conn || conn->broken()) {
      auto c = cluster::RedisConnection::connect(endpoint_, password_, kSocketTimeout);
      if (!c) {
        if (!pause(backoff)) return;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      conn = std::move(*c);
      backoff = 100ms;
    }
    auto r = conn->command(cluster::read_suppression_events(cursor, kBlockMs));
    if (!r) {
      // Broken: reconnect after a pause (the link's own lines say when Redis is down); a reply
      // that cannot be read must not turn into a reconnect storm.
      if (r.error().kind != ErrorKind::Unavailable)
        ops::log_warning("cluster: suppression stream: " + r.error().message);
      if (!pause(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    auto batch = r->is_error()
                     ? Result<cluster::StreamBatch>(make_error(ErrorKind::Invalid, r->text.substr(0, 200)))
                     : cluster::decode_suppression_events(*r);
    if (!batch) {
      ops::log_warning("cluster: suppression stream: " + batch.error().message);
      conn.reset();
      if (!pause(2000ms)) return;
      continue;
    }
    if (batch->last_id.empty()) continue;
    std::vector<cluster::SuppressionEvent> remote;
    for (auto& ev : batch->events)
      if (ev.node != node_name_) remote.push_back(std::move(ev));
    if (!remote.empty() && !apply(remote)) {
      if (!pause(1000ms)) return;
      continue;  // the same messages again, from the unchanged cursor
    }
    cursor = batch->last_id;
    save_cursor(cursor);
  }
}

// One queued write for the batch; waits for its commit (the writer always completes it).
bool SuppressionFeed::apply(const std::vector<cluster::SuppressionEvent>& events) {
  auto done = std::make_shared<std::promise<Result<void>>>();
  auto committed = done->get_future();
  batcher_.submit(
      [events](queue::WriteTxn& t) -> Result<void> {
        for (const auto& ev : events) {
          if (ev.removed) {
            if (auto r = t.suppression_erase(ev.entry.address); !r) return r.error();
          } else if (auto r = t.suppression_put(ev.entry); !r) {
            return r.error();
          }
        }
        return {};
      },
      [done](Result<void> r) { done->set_value(std::move(r)); });
  auto r = committed.get();
  if (!r) {
    ops::log_warning("cluster: suppression entries from other nodes not written: " + r.error().message);
    return false;
  }
  for (const auto& ev : events)
    ops::log_info("cluster: suppression " + std::string(ev.removed ? "removed" : "added") + " <" +
                  ev.entry.address + "> from node " + ev.node +
                  (ev.removed ? "" : " (" + ev.entry.category + ")"));
  return true;
}

std::string SuppressionFeed::load_cursor() const {
  const int fd = ::open(cursor_path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "0";  // never read: from the stream's start (it is trimmed to a bound)
  char buf[64] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::string id = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  id = id.substr(0, id.find_first_of("\r\n"));
  return cluster::valid_stream_id(id) ? id : "0";
}

// Written beside and renamed over, synced: a crash leaves the old cursor or the new one.
void SuppressionFeed::save_cursor(const std::string& id) const {
  const std::string tmp = cursor_path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string line = id + "\n";
  const bool ok =
      ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), cursor_path_.c_str()) != 0)
    ops::log_warning("cluster: cannot save the suppression cursor " + cursor_path_ + ": " +
                     std::strerror(errno));
}

}  // namespace ferry::daemon
