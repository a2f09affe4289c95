// CommitBatcher: see CommitBatcher.hpp. One writer thread; one transaction and one synced
// commit per batch; completions only after that commit returned.
#include "queue/CommitBatcher.hpp"

#include <vector>

namespace ferry::queue {

CommitBatcher::CommitBatcher(QueueStore& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch ? max_batch : 1), thread_([this] { run(); }) {}

CommitBatcher::~CommitBatcher() { stop(); }

void CommitBatcher::submit(Operation op, Completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(Request{std::move(op), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  // After stop() nothing will commit it: say so rather than drop it.
  done(make_error(ErrorKind::Closed, "queue writer stopped"));
}

void CommitBatcher::submit_enqueue(NewMessage message, Completion done) {
  submit([m = std::move(message)](WriteTxn& txn) { return txn.enqueue(m); }, std::move(done));
}

void CommitBatcher::submit_settle(SettleRequest request, Completion done) {
  submit([r = std::move(request)](WriteTxn& txn) { return txn.settle(r); }, std::move(done));
}

void CommitBatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

CommitBatcher::Stats CommitBatcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// First every request directly in the one transaction: a nested transaction per request costs
// LMDB a few megabytes of lists, allocated and freed each time. Requests rarely fail; when one
// does, that attempt is aborted whole and the batch runs again with each request in its own
// nested transaction (WriteTxn::run), so a failing one is undone alone and gets its own error
// while the others still commit. Hence operations must be safe to run twice.
Result<void> CommitBatcher::commit_batch(std::vector<Request>& batch, std::vector<Result<void>>& results) {
  results.assign(batch.size(), Result<void>());
  bool request_failed = false;
  Result<void> flat = store_.write(
      [&](WriteTxn& txn) -> Result<void> {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          results[i] = batch[i].op(txn);
          if (!results[i]) {
            request_failed = true;
            return make_error(ErrorKind::Busy, "a request failed: the batch runs again, each request nested");
          }
        }
        return {};
      },
      /*per_operation=*/false);
  if (!request_failed) return flat;
  results.assign(batch.size(), Result<void>());
  return store_.write([&](WriteTxn& txn) {
    for (std::size_t i = 0; i < batch.size(); ++i) results[i] = txn.run(batch[i].op);
    return Result<void>();
  });
}

void CommitBatcher::run() {
  std::vector<Request> batch;
  std::vector<Result<void>> results;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything submitted has been done
      // Everything that queued up while the previous commit was syncing goes into this one:
      // the batch grows with the load, and one fsync covers it.
      while (!pending_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    const auto started = std::chrono::steady_clock::now();
    Result<void> committed = commit_batch(batch, results);
    if (observer_) observer_(batch.size(), std::chrono::steady_clock::now() - started);
    {
      std::lock_guard lock(mutex_);
      stats_.commits += 1;
      stats_.requests += batch.size();
      if (batch.size() > stats_.largest_batch) stats_.largest_batch = batch.size();
    }
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].done(committed ? results[i] : Result<void>(committed.error()));
  }
}

}  // namespace ferry::queue
