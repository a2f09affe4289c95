// Scheduler: the in-memory due index of pending recipients and the connection windows.
// Contract: pure (time is an argument); taken recipients leave the index until the daemon add()s
// them back with their next due time; a batch = one message's due recipients for one destination.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ferry/QueueId.hpp"

#include "ferry/Clock.hpp"
#include "mta/delivery/DestinationWindow.hpp"

namespace ferry::delivery {

struct SchedulerLimits {
  std::size_t max_connections = 100;     // global concurrency (RFC 5321 §4.5.4.1 MAY, with a limit)
  std::size_t max_per_destination = 20;  // per destination key
  // Slow start: a destination's window opens at this many connections and grows with each
  // delivery up to max_per_destination (DestinationWindow). 0 = no slow start.
  std::size_t initial_per_destination = 0;
};

// One SMTP transaction's worth of work: all due recipients of one message that go to one
// destination (RFC 5321 §4.5.4.1 SHOULD: one transaction, several RCPTs). Recipient indexes are
// ascending (positions in the message's Envelope::recipients).
struct Batch {
  std::string destination;
  QueueId queue_id;
  std::vector<std::uint32_t> recipients;
};

// How the daemon drives it:
//  start-up   add() every pending recipient from the queue's due index;
//  loop       for (auto& b : take_ready(now)) open a connection (one slot each) and deliver b;
//             after a transaction, reuse the connection with take_next_for(b.destination, now)
//             (no new slot) or close it and release(b.destination);
//             sleep until next_wakeup() (or until a release()/add() wakes the loop);
//  settle     add() the recipients that got a transient failure with their next due time;
//             remove_message() when a message is gone (delivered, bounced, deleted);
//  feedback  delivered(destination) after a delivery, connection_failed(destination) after a
//             refused / lost connection or a 421: the destination's window grows or shrinks;
//  `ferry queue flush`  flush_all(now).
//  pacing    set_start_gate(): asked before every batch; a destination it holds back waits,
//            its entries staying due, until the time it names (other destinations go on).
class Scheduler {
 public:
  // Asked before a batch of `destination` is taken (a new connection, or `reuse` of one held):
  // nullopt = go (the gate has taken its token); else the time to ask again. A destination held
  // back is skipped by take_ready and next_wakeup until then (take_next_for asks again: a hold
  // for a connection slot does not concern a connection already held).
  using StartGate =
      std::function<std::optional<TimeMs>(const std::string& destination, TimeMs now, bool reuse)>;
  void set_start_gate(StartGate gate) { gate_ = std::move(gate); }
  // Every destination held back by the gate may be asked again now (a paced connection closed).
  // True when one was held.
  bool clear_holds();

  explicit Scheduler(SchedulerLimits limits = {});

  const SchedulerLimits& limits() const noexcept { return limits_; }
  // New limits (configuration reload). Connections above a lowered limit are not cut: they
  // finish, and no new one starts until the count is back under it.
  void set_limits(SchedulerLimits limits);

  // Inserts or replaces (same queue id and recipient) an entry.
  void add(QueueId queue_id, std::uint32_t recipient, std::string_view destination, TimeMs due_ms);
  bool remove(QueueId queue_id, std::uint32_t recipient);
  std::size_t remove_message(QueueId queue_id);
  // Moves an existing entry to a new due time; false when it is not in the index.
  bool reschedule(QueueId queue_id, std::uint32_t recipient, TimeMs due_ms);

  // Due batches (due_ms <= now) within the limits, each taking one connection slot. Destinations
  // are served round-robin, the one with the oldest due entry first, so one busy destination
  // cannot starve the others. Entries left behind by a full window stay due.
  std::vector<Batch> take_ready(TimeMs now,
                                std::size_t max_batches = std::numeric_limits<std::size_t>::max());

  // Connection reuse: the next due batch for `destination` on a connection (slot) the caller
  // already holds. nullopt when nothing is due there.
  std::optional<Batch> take_next_for(std::string_view destination, TimeMs now);

  // A connection (slot) to `destination` finished. Unmatched releases are ignored.
  void release(std::string_view destination);

  // Slow-start feedback for a destination's window (ignored for a destination not indexed).
  // delivered() returns true when the window grew (take_ready may now start another connection).
  bool delivered(std::string_view destination);
  void connection_failed(std::string_view destination);
  // The connections `destination` may have open now (the initial window if it is not indexed).
  std::size_t window(std::string_view destination) const;

  // The earliest due time among entries that could start given the limits; nullopt when the
  // index is empty, or every candidate waits for a release() (global or per-destination window
  // full). May be <= now: work is ready.
  std::optional<TimeMs> next_wakeup() const;
  // The earliest due time of any entry, limits ignored.
  std::optional<TimeMs> earliest_due() const;

  // Makes every entry due at `now` (`ferry queue flush`). Returns how many entries moved.
  std::size_t flush_all(TimeMs now);

  std::size_t size() const noexcept { return entries_.size(); }
  bool contains(QueueId queue_id, std::uint32_t recipient) const;
  std::optional<TimeMs> due_of(QueueId queue_id, std::uint32_t recipient) const;
  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t in_flight(std::string_view destination) const;

 private:
  using Key = std::pair<QueueId, std::uint32_t>;
  using DueKey = std::tuple<TimeMs, QueueId, std::uint32_t>;
  struct Entry {
    std::string destination;
    TimeMs due = 0;
  };
  struct Destination {
    std::set<DueKey> by_due;
    std::map<QueueId, std::set<std::uint32_t>> by_message;
    std::size_t in_flight = 0;
    TimeMs held_until = 0;  // the start gate held it back until then
    // Kept while the destination has work or connections; a destination seen anew starts slow.
    DestinationWindow window;
    bool open() const { return in_flight < window.size(); }
  };
  // The start gate lets a batch of `name` go now (true), or holds the destination back.
  bool gate_allows(const std::string& name, Destination& dest, TimeMs now, bool reuse);

  void erase_entry(std::map<Key, Entry>::iterator it);
  std::optional<Batch> take_batch(const std::string& name, Destination& dest, TimeMs now);
  void drop_if_idle(const std::string& name);
  Destination& entry_for(const std::string& name);  // found or created (with a new window)

  SchedulerLimits limits_;
  std::map<Key, Entry> entries_;
  std::set<DueKey> by_due_;
  std::unordered_map<std::string, Destination> destinations_;
  std::size_t in_flight_ = 0;
  StartGate gate_;
};

}  // namespace ferry::delivery
