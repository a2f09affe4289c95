// IdAllocator: hands out unique, time-ordered 64-bit queue ids: (unix_ms << 20) | sequence.
// Contract: thread-safe (one atomic); ids never go backwards within a process and are always
// greater than the floor given at construction (the largest id already stored).
#pragma once

#include <atomic>
#include <cstdint>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"

namespace ferry::queue {

class IdAllocator {
 public:
  static constexpr int kSequenceBits = 20;
  static constexpr std::uint64_t kSequenceMask = (1ull << kSequenceBits) - 1;

  // `seed` starts the low 20 bits at a random value, so two processes allocating in the same
  // millisecond (the daemon and `ferry sendmail`, say) are unlikely to collide; enqueue's
  // MDB_NOOVERWRITE turns the rare collision into ErrorKind::Exists rather than an overwrite.
  IdAllocator(std::uint64_t floor, std::uint64_t seed) : last_(floor), sequence_(seed & kSequenceMask) {}

  QueueId next(TimeMs now) {
    std::uint64_t ms = now < 0 ? 0 : static_cast<std::uint64_t>(now);
    std::uint64_t candidate =
        (ms << kSequenceBits) | (sequence_.fetch_add(1, std::memory_order_relaxed) & kSequenceMask);
    std::uint64_t last = last_.load(std::memory_order_relaxed);
    for (;;) {
      // A clock step backwards, or more than 2^20 ids in one millisecond, must not reuse an id:
      // then we simply continue from the last one.
      std::uint64_t id = candidate > last ? candidate : last + 1;
      if (last_.compare_exchange_weak(last, id, std::memory_order_relaxed)) return QueueId{id};
    }
  }

  void observe(QueueId seen) {
    std::uint64_t last = last_.load(std::memory_order_relaxed);
    while (seen.value > last && !last_.compare_exchange_weak(last, seen.value, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<std::uint64_t> last_;
  std::atomic<std::uint64_t> sequence_;
};

}  // namespace ferry::queue
