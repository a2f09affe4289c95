// EnqueueLoad: the durable-enqueue load the queue benches put on a CommitBatcher.
// Contract: `producers` threads each submit one message and wait for its commit before the next
// (like SMTP sessions) until `seconds` have passed; returns what was committed and how.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "mta/ops/SystemClock.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::bench {

// A body of `size` bytes in 80-byte CRLF lines.
inline std::string crlf_body(std::size_t size) {
  std::string body(size, 'b');
  for (std::size_t i = 78; i < body.size(); i += 80) body[i - 1] = '\r', body[i] = '\n';
  return body;
}

struct EnqueueLoad {
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
  double elapsed = 0;  // seconds
  queue::CommitBatcher::Stats stats;
  double rate() const { return elapsed > 0 ? done / elapsed : 0; }
};

// One message from sender@example.org to `rcpt` with `body`, per submit.
inline EnqueueLoad run_enqueue_load(queue::QueueStore& store, const std::string& body,
                                    const std::string& rcpt, int producers, double seconds) {
  std::atomic<std::uint64_t> done{0}, failed{0};
  std::atomic<bool> stop{false};
  EnqueueLoad load;
  queue::CommitBatcher batcher(store);
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        queue::NewMessage m;
        m.id = store.allocate_id();
        m.envelope.reverse_path = "sender@example.org";
        m.envelope.recipients.push_back({rcpt, "", 0});
        m.envelope.size = body.size();
        m.body = body;
        m.first_due_ms = now_ms();
        std::promise<bool> promise;
        auto future = promise.get_future();
        batcher.submit_enqueue(std::move(m), [&promise](Result<void> r) { promise.set_value(r.ok()); });
        (future.get() ? done : failed).fetch_add(1, std::memory_order_relaxed);
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  load.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  load.stats = batcher.stats();
  load.done = done.load();
  load.failed = failed.load();
  return load;
}

}  // namespace ferry::bench
