// DueWindowSync: keeps the scheduler's entries in line with a bounded window of the queue's due index.
// Contract: I/O-thread only; each read of the index is bounded by the window's capacity, whatever
// the size of the queue; in-flight recipients are never put back by a read (their settle does that).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"
#include "mta/delivery/DueWindow.hpp"
#include "mta/delivery/Scheduler.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

class DueWindowSync {
 public:
  using Key = std::pair<QueueId, std::uint32_t>;
  // The destination key of a recipient address (the agent's routes decide it).
  using DestinationOf = std::function<std::string(std::string_view address)>;

  DueWindowSync(const queue::QueueStore& store, delivery::Scheduler& scheduler,
                const std::set<Key>& in_flight, DestinationOf destination_of, std::size_t capacity);

  // Re-reads the soonest-due window from the start of the index: new entries are added, moved ones
  // rescheduled, and entries inside the window the index no longer has (held, deleted, moved by
  // another process) are removed. Entries beyond the window added directly are kept: leasing
  // skips any that went stale. The start, `ferry queue` changes (SIGUSR1) and a slow safety net.
  void reload();
  // Reads the next part of the index when memory runs low or the window's end is due (bounded).
  void refill(TimeMs now);

  // A recipient this process queued or rescheduled itself (its record committed): into memory
  // when the window admits it, else a later refill reads it from the index.
  void add_direct(QueueId id, std::uint32_t index, std::string_view address, TimeMs due);
  // The scheduler handed the entry out (it is in flight now): no longer mirrored.
  void taken(Key k) { known_.erase(k); }
  // Removes the entry from memory (and the scheduler) if present.
  void forget(Key k);
  std::size_t size() const noexcept { return known_.size(); }
  const delivery::DueWindow& window() const noexcept { return window_; }

 private:
  void add(QueueId id, std::uint32_t index, std::string_view address, TimeMs due);
  // Adds or reschedules every entry read that is not in flight; returns the keys read.
  std::set<Key> index_entries(const std::vector<queue::DueRecipient>& due);
  static delivery::DueEntry entry_of(const queue::DueRecipient& d) { return {d.due_ms, d.id, d.index}; }

  const queue::QueueStore& store_;
  delivery::Scheduler& scheduler_;
  const std::set<Key>& in_flight_;
  DestinationOf destination_of_;
  delivery::DueWindow window_;
  std::map<Key, TimeMs> known_;  // mirror of the scheduler's entries
};

}  // namespace ferry::outbound
