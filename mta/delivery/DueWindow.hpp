// DueWindow: which part of the queue's due index the scheduler holds in memory.
// Contract: pure; memory holds the entries of the index up to bound() (all of them once the
// window is complete) plus entries this process added itself, never more than hard_cap().
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"

namespace ferry::delivery {

// One due index entry, ordered as the index orders its keys: due time, queue id, recipient.
// Due times before the epoch sort as 0, like the index's keys.
struct DueEntry {
  TimeMs due = 0;
  QueueId id;
  std::uint32_t index = 0;
  friend std::strong_ordering operator<=>(const DueEntry& a, const DueEntry& b);
  friend bool operator==(const DueEntry& a, const DueEntry& b) { return (a <=> b) == 0; }
};

// With a million queued recipients the index is read a window at a time: a reload reads the
// first `capacity` entries, a refill the next ones after bound(). Entries beyond the bound stay
// on disk until the window reaches them, so memory and each read are bounded whatever the size
// of the queue; the soonest-due entries are always the ones in memory.
class DueWindow {
 public:
  explicit DueWindow(std::size_t capacity);

  std::size_t capacity() const noexcept { return capacity_; }
  // Memory never holds more than this many entries: refills and direct adds stop there.
  std::size_t hard_cap() const noexcept { return 4 * capacity_; }
  bool complete() const noexcept { return !bound_; }
  // The last entry read from the index (nullopt: the window reaches its end).
  const std::optional<DueEntry>& bound() const noexcept { return bound_; }

  // A reload read `got` entries from the start, asked for `asked`; `last` is the last one.
  void reloaded(std::size_t asked, std::size_t got, const std::optional<DueEntry>& last);
  // A refill read `got` entries after bound(), asked for `asked`; `last` is the last one.
  void refilled(std::size_t asked, std::size_t got, const std::optional<DueEntry>& last);

  // Whether `e` is inside the part of the index that memory mirrors.
  bool covers(const DueEntry& e) const;
  // Whether an entry this process queued or rescheduled itself goes into memory now: inside the
  // window, or beyond it while memory is under hard_cap() (new mail for a live destination is
  // not made to wait behind a backlog for a dead one). Else a later refill reads it.
  bool admits(const DueEntry& e, std::size_t in_memory) const;
  // How many entries the next refill should read after bound() (0: none now). Memory below half
  // the capacity refills up to the capacity; a bound that is due by `now` (everything in memory
  // is due, possibly waiting for a connection slot) reads half a capacity more, up to hard_cap().
  std::size_t refill_want(std::size_t in_memory, TimeMs now) const;

 private:
  std::size_t capacity_;
  std::optional<DueEntry> bound_;  // nullopt = complete
};

}  // namespace ferry::delivery
