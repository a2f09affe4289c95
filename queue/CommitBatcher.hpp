// CommitBatcher: group commit. One writer thread drains every pending request into one LMDB
// write transaction, so one fsync covers the whole batch instead of one per message.
// Contract: a completion runs on the writer thread only after the synced commit returned (or
// with the error that undid that request); callers post it to their own executor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "ferry/Result.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::queue {

class CommitBatcher {
 public:
  using Operation = std::function<Result<void>(WriteTxn&)>;
  using Completion = std::function<void(Result<void>)>;

  explicit CommitBatcher(QueueStore& store, std::size_t max_batch = 512);
  ~CommitBatcher();  // stop(): finishes every request already submitted, then joins
  CommitBatcher(const CommitBatcher&) = delete;
  CommitBatcher& operator=(const CommitBatcher&) = delete;

  // Called on the writer thread after every commit with its batch size and duration (fsync
  // included): for metrics. Set it before the first submit.
  using Observer = std::function<void(std::size_t batch, std::chrono::nanoseconds took)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // An operation may run twice (a batch is retried request by request when one fails): it
  // changes nothing outside the transaction but what it overwrites on its next run.
  void submit(Operation op, Completion done);
  void submit_enqueue(NewMessage message, Completion done);
  void submit_settle(SettleRequest request, Completion done);
  void stop();

  struct Stats {
    std::uint64_t commits = 0;
    std::uint64_t requests = 0;
    std::uint64_t largest_batch = 0;
  };
  Stats stats() const;

 private:
  void run();

  struct Request {
    Operation op;
    Completion done;
  };
  Result<void> commit_batch(std::vector<Request>& batch, std::vector<Result<void>>& results);
  QueueStore& store_;
  std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Request> pending_;
  bool stopping_ = false;
  Stats stats_;
  Observer observer_;
  std::thread thread_;
};

}  // namespace ferry::queue
