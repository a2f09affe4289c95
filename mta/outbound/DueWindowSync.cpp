// DueWindowSync: see DueWindowSync.hpp.
#include "mta/outbound/DueWindowSync.hpp"

#include <optional>

#include "mta/ops/Log.hpp"

namespace ferry::outbound {

DueWindowSync::DueWindowSync(const queue::QueueStore& store, delivery::Scheduler& scheduler,
                             const std::set<Key>& in_flight, DestinationOf destination_of,
                             std::size_t capacity)
    : store_(store),
      scheduler_(scheduler),
      in_flight_(in_flight),
      destination_of_(std::move(destination_of)),
      window_(capacity) {}

void DueWindowSync::add(QueueId id, std::uint32_t index, std::string_view address, TimeMs due) {
  Key k{id, index};
  if (in_flight_.count(k)) return;
  auto it = known_.find(k);
  if (it != known_.end()) {
    if (it->second != due) {
      scheduler_.reschedule(id, index, due);
      it->second = due;
    }
    return;
  }
  scheduler_.add(id, index, destination_of_(address), due);
  known_[k] = due;
}

void DueWindowSync::add_direct(QueueId id, std::uint32_t index, std::string_view address, TimeMs due) {
  if (known_.count({id, index}) || window_.admits({due, id, index}, known_.size()))
    add(id, index, address, due);
}

void DueWindowSync::forget(Key k) {
  if (known_.erase(k)) scheduler_.remove(k.first, k.second);
}

std::set<DueWindowSync::Key> DueWindowSync::index_entries(const std::vector<queue::DueRecipient>& due) {
  std::set<Key> seen;
  // Records are loaded once per message, and only for entries not in memory yet.
  std::map<QueueId, std::optional<queue::MessageRecord>> loaded;
  for (const auto& d : due) {
    Key k{d.id, d.index};
    seen.insert(k);
    if (in_flight_.count(k)) continue;
    if (known_.count(k)) {
      add(d.id, d.index, {}, d.due_ms);  // reschedules when it moved
      continue;
    }
    auto& rec = loaded[d.id];
    if (!rec) {
      auto r = store_.load(d.id);
      if (!r) continue;
      rec = std::move(*r);
    }
    if (d.index < rec->envelope.recipients.size())
      add(d.id, d.index, rec->envelope.recipients[d.index].address, d.due_ms);
  }
  return seen;
}

void DueWindowSync::reload() {
  const std::size_t want = window_.capacity();
  auto due = store_.due_range(std::nullopt, want);
  if (!due) {
    ops::log_error("delivery: reading the due index: " + due.error().message);
    return;
  }
  window_.reloaded(want, due->size(), due->empty() ? std::nullopt : std::optional(entry_of(due->back())));
  const std::set<Key> seen = index_entries(*due);
  for (auto it = known_.begin(); it != known_.end();) {
    const delivery::DueEntry e{it->second, it->first.first, it->first.second};
    if (!seen.count(it->first) && window_.covers(e)) {
      scheduler_.remove(it->first.first, it->first.second);
      it = known_.erase(it);
    } else {
      ++it;
    }
  }
}

void DueWindowSync::refill(TimeMs now) {
  const std::size_t want = window_.refill_want(known_.size(), now);
  if (want == 0) return;
  const auto& bound = *window_.bound();
  auto due = store_.due_range(queue::DueRecipient{bound.id, bound.index, bound.due}, want);
  if (!due) {
    ops::log_error("delivery: reading the due index: " + due.error().message);
    return;
  }
  window_.refilled(want, due->size(), due->empty() ? std::nullopt : std::optional(entry_of(due->back())));
  index_entries(*due);
}

}  // namespace ferry::outbound
