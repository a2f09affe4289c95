// PendingBytesBudget: see PendingBytesBudget.hpp.
#include "mta/daemon/PendingBytesBudget.hpp"

#include <algorithm>
#include <vector>

namespace ferry::daemon {

PendingBytesBudget::HolderId PendingBytesBudget::add(std::uint64_t claim) {
  const HolderId id = next_++;
  holders_[id] = Holder{claim, 0};
  return id;
}

void PendingBytesBudget::remove(HolderId id) {
  auto it = holders_.find(id);
  if (it == holders_.end()) return;
  total_ -= it->second.bytes;
  holders_.erase(it);
}

std::uint64_t PendingBytesBudget::held(HolderId id) const {
  auto it = holders_.find(id);
  return it == holders_.end() ? 0 : it->second.bytes;
}

void PendingBytesBudget::force_set(HolderId id, std::uint64_t bytes) {
  auto it = holders_.find(id);
  if (it == holders_.end()) return;
  total_ = total_ - it->second.bytes + bytes;
  it->second.bytes = bytes;
}

bool PendingBytesBudget::try_set(HolderId id, std::uint64_t bytes) {
  auto it = holders_.find(id);
  if (it == holders_.end()) return false;
  if (bytes > it->second.bytes) {
    if (total_ - it->second.bytes + bytes > capacity_) return false;
    if (!safe_after(id, bytes)) return false;
  }
  force_set(id, bytes);
  return true;
}

// The banker's safety check: after the grant, is there an order in which every holder can grow
// to its claim and then release everything? Taking the holders by what they still need, smallest
// first, finds such an order if one exists (finishing a holder only adds to what is free).
bool PendingBytesBudget::safe_after(HolderId id, std::uint64_t bytes) const {
  const std::uint64_t total = total_ - holders_.at(id).bytes + bytes;
  std::uint64_t free = capacity_ - total;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> need_held;  // (still needed, held)
  need_held.reserve(holders_.size());
  std::uint64_t largest_need = 0;
  for (const auto& [hid, h] : holders_) {
    const std::uint64_t held = hid == id ? bytes : h.bytes;
    const std::uint64_t claim = std::min(h.claim, capacity_);
    const std::uint64_t need = claim > held ? claim - held : 0;
    if (held == 0 && hid != id) continue;  // holds nothing: waiting for it blocks no one
    need_held.emplace_back(need, held);
    largest_need = std::max(largest_need, need);
  }
  if (free >= largest_need) return true;  // the usual case: anyone can finish from what is free
  std::sort(need_held.begin(), need_held.end());
  for (const auto& [need, held] : need_held) {
    if (need > free) return false;
    free += held;
  }
  return true;
}

}  // namespace ferry::daemon
