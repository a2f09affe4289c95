// Scheduler: ordered due sets, per destination and global, plus the connection windows.
#include "mta/delivery/Scheduler.hpp"

#include <algorithm>

namespace ferry::delivery {

Scheduler::Scheduler(SchedulerLimits limits) { set_limits(limits); }

void Scheduler::set_limits(SchedulerLimits limits) {
  limits_ = limits;
  if (limits_.max_connections == 0) limits_.max_connections = 1;
  if (limits_.max_per_destination == 0) limits_.max_per_destination = 1;
  for (auto& [name, dest] : destinations_)
    dest.window.set_limits(limits_.initial_per_destination, limits_.max_per_destination);
}

Scheduler::Destination& Scheduler::entry_for(const std::string& name) {
  auto it = destinations_.find(name);
  if (it == destinations_.end())
    it = destinations_
             .emplace(name, Destination{{},
                                        {},
                                        0,
                                        0,
                                        DestinationWindow(limits_.initial_per_destination,
                                                          limits_.max_per_destination)})
             .first;
  return it->second;
}

void Scheduler::add(QueueId queue_id, std::uint32_t recipient, std::string_view destination, TimeMs due_ms) {
  const Key key{queue_id, recipient};
  if (auto it = entries_.find(key); it != entries_.end()) erase_entry(it);
  Entry e{std::string(destination), due_ms};
  auto& dest = entry_for(e.destination);
  dest.by_due.emplace(due_ms, queue_id, recipient);
  dest.by_message[queue_id].insert(recipient);
  by_due_.emplace(due_ms, queue_id, recipient);
  entries_.emplace(key, std::move(e));
}

void Scheduler::erase_entry(std::map<Key, Entry>::iterator it) {
  const auto [qid, rcpt] = it->first;
  const TimeMs due = it->second.due;
  const std::string name = it->second.destination;
  by_due_.erase({due, qid, rcpt});
  if (auto d = destinations_.find(name); d != destinations_.end()) {
    d->second.by_due.erase({due, qid, rcpt});
    if (auto m = d->second.by_message.find(qid); m != d->second.by_message.end()) {
      m->second.erase(rcpt);
      if (m->second.empty()) d->second.by_message.erase(m);
    }
  }
  entries_.erase(it);
  drop_if_idle(name);
}

void Scheduler::drop_if_idle(const std::string& name) {
  auto d = destinations_.find(name);
  if (d != destinations_.end() && d->second.by_due.empty() && d->second.in_flight == 0)
    destinations_.erase(d);
}

bool Scheduler::remove(QueueId queue_id, std::uint32_t recipient) {
  auto it = entries_.find({queue_id, recipient});
  if (it == entries_.end()) return false;
  erase_entry(it);
  return true;
}

std::size_t Scheduler::remove_message(QueueId queue_id) {
  std::size_t n = 0;
  auto it = entries_.lower_bound({queue_id, 0});
  while (it != entries_.end() && it->first.first == queue_id) {
    auto next = std::next(it);
    erase_entry(it);
    it = next;
    ++n;
  }
  return n;
}

bool Scheduler::reschedule(QueueId queue_id, std::uint32_t recipient, TimeMs due_ms) {
  auto it = entries_.find({queue_id, recipient});
  if (it == entries_.end()) return false;
  const std::string dest = it->second.destination;
  add(queue_id, recipient, dest, due_ms);
  return true;
}

std::optional<Batch> Scheduler::take_batch(const std::string& name, Destination& dest, TimeMs now) {
  if (dest.by_due.empty()) return std::nullopt;
  const auto& [due, qid, first_rcpt] = *dest.by_due.begin();
  if (due > now) return std::nullopt;
  Batch batch;
  batch.destination = name;
  batch.queue_id = qid;
  const QueueId message = qid;
  // Every due recipient of this message for this destination goes into the same transaction.
  std::vector<std::uint32_t> rcpts;
  for (std::uint32_t r : dest.by_message[message]) {
    auto it = entries_.find({message, r});
    if (it != entries_.end() && it->second.due <= now) rcpts.push_back(r);
  }
  for (std::uint32_t r : rcpts) {
    auto it = entries_.find({message, r});
    // Erase without dropping the destination: the caller still holds a reference to it.
    by_due_.erase({it->second.due, message, r});
    dest.by_due.erase({it->second.due, message, r});
    entries_.erase(it);
  }
  if (auto m = dest.by_message.find(message); m != dest.by_message.end()) {
    for (std::uint32_t r : rcpts) m->second.erase(r);
    if (m->second.empty()) dest.by_message.erase(m);
  }
  batch.recipients = std::move(rcpts);
  return batch;
}

bool Scheduler::clear_holds() {
  bool any = false;
  for (auto& [name, dest] : destinations_) {
    any = any || dest.held_until != 0;
    dest.held_until = 0;
  }
  return any;
}

// A connection held for reuse is asked for even while the destination is held: the hold may be
// for a new connection's slot, which reuse does not need.
bool Scheduler::gate_allows(const std::string& name, Destination& dest, TimeMs now, bool reuse) {
  if (!reuse && dest.held_until > now) return false;
  if (!gate_) return true;
  const std::optional<TimeMs> again = gate_(name, now, reuse);
  if (!again) return true;
  dest.held_until = std::max({dest.held_until, *again, now + 1});
  return false;
}

std::vector<Batch> Scheduler::take_ready(TimeMs now, std::size_t max_batches) {
  std::vector<Batch> out;
  // Candidates: destinations with a due entry and a free slot, oldest due first.
  std::vector<std::pair<TimeMs, std::string>> order;
  for (const auto& [name, dest] : destinations_) {
    if (dest.by_due.empty()) continue;
    const TimeMs first = std::get<0>(*dest.by_due.begin());
    if (first <= now && dest.open() && dest.held_until <= now) order.emplace_back(first, name);
  }
  std::sort(order.begin(), order.end());
  bool progress = true;
  while (progress && in_flight_ < limits_.max_connections && out.size() < max_batches) {
    progress = false;
    for (const auto& [first, name] : order) {
      if (in_flight_ >= limits_.max_connections || out.size() >= max_batches) break;
      auto it = destinations_.find(name);
      if (it == destinations_.end() || !it->second.open()) continue;
      if (it->second.by_due.empty() || std::get<0>(*it->second.by_due.begin()) > now) continue;
      if (!gate_allows(name, it->second, now, false)) continue;
      auto batch = take_batch(name, it->second, now);
      if (!batch) continue;
      ++it->second.in_flight;
      ++in_flight_;
      out.push_back(std::move(*batch));
      progress = true;
    }
  }
  return out;
}

std::optional<Batch> Scheduler::take_next_for(std::string_view destination, TimeMs now) {
  const std::string name(destination);
  auto it = destinations_.find(name);
  if (it == destinations_.end()) return std::nullopt;
  auto& dest = it->second;
  if (dest.by_due.empty() || std::get<0>(*dest.by_due.begin()) > now) return std::nullopt;
  if (!gate_allows(name, dest, now, true)) return std::nullopt;
  auto batch = take_batch(name, dest, now);
  drop_if_idle(name);
  return batch;
}

void Scheduler::release(std::string_view destination) {
  const std::string name(destination);
  auto it = destinations_.find(name);
  if (it == destinations_.end() || it->second.in_flight == 0) return;
  --it->second.in_flight;
  if (in_flight_ > 0) --in_flight_;
  drop_if_idle(name);
}

bool Scheduler::delivered(std::string_view destination) {
  auto it = destinations_.find(std::string(destination));
  if (it == destinations_.end()) return false;
  const std::size_t before = it->second.window.size();
  it->second.window.delivered();
  return it->second.window.size() > before;
}

void Scheduler::connection_failed(std::string_view destination) {
  if (auto it = destinations_.find(std::string(destination)); it != destinations_.end())
    it->second.window.failed();
}

std::size_t Scheduler::window(std::string_view destination) const {
  if (auto it = destinations_.find(std::string(destination)); it != destinations_.end())
    return it->second.window.size();
  return DestinationWindow(limits_.initial_per_destination, limits_.max_per_destination).size();
}

std::optional<TimeMs> Scheduler::next_wakeup() const {
  if (in_flight_ >= limits_.max_connections) return std::nullopt;
  std::optional<TimeMs> best;
  for (const auto& [name, dest] : destinations_) {
    if (dest.by_due.empty() || !dest.open()) continue;
    const TimeMs first = std::max(std::get<0>(*dest.by_due.begin()), dest.held_until);
    if (!best || first < *best) best = first;
  }
  return best;
}

std::optional<TimeMs> Scheduler::earliest_due() const {
  if (by_due_.empty()) return std::nullopt;
  return std::get<0>(*by_due_.begin());
}

std::size_t Scheduler::flush_all(TimeMs now) {
  std::vector<std::tuple<QueueId, std::uint32_t, std::string>> moved;
  for (const auto& [key, e] : entries_)
    if (e.due > now) moved.emplace_back(key.first, key.second, e.destination);
  for (const auto& [qid, rcpt, dest] : moved) add(qid, rcpt, dest, now);
  return moved.size();
}

bool Scheduler::contains(QueueId queue_id, std::uint32_t recipient) const {
  return entries_.count({queue_id, recipient}) != 0;
}

std::optional<TimeMs> Scheduler::due_of(QueueId queue_id, std::uint32_t recipient) const {
  auto it = entries_.find({queue_id, recipient});
  if (it == entries_.end()) return std::nullopt;
  return it->second.due;
}

std::size_t Scheduler::in_flight(std::string_view destination) const {
  auto it = destinations_.find(std::string(destination));
  return it == destinations_.end() ? 0 : it->second.in_flight;
}

}  // namespace ferry::delivery
