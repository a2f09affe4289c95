// PendingBytesBudget: see PendingBytesBudget.hpp.
#include "mta/inbound/PendingBytesBudget.hpp"

#include <algorithm>
#include <vector>

namespace ferry::inbound {

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
  if (bytes > it->second.bytes && beyond_allowance(bytes) > 0 && !safe_after(id, bytes)) return false;
  force_set(id, bytes);
  return true;
}

// The banker's safety check, on the bytes beyond the allowances and the capacity the allowances
// leave: after the grant, is there an order in which every holder can grow to its claim and then
// release everything? Taking the holders by what they still need, smallest first, finds such an
// order if one exists (finishing a holder only adds to what is free).
bool PendingBytesBudget::safe_after(HolderId id, std::uint64_t bytes) const {
  const std::uint64_t set_aside = allowance_ * holders_.size();
  const std::uint64_t capacity = capacity_ > set_aside ? capacity_ - set_aside : 0;
  std::uint64_t total = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> need_held;  // (still needed, held)
  need_held.reserve(holders_.size());
  std::uint64_t largest_need = 0;
  for (const auto& [hid, h] : holders_) {
    const std::uint64_t held = beyond_allowance(hid == id ? bytes : h.bytes);
    const std::uint64_t claim = std::min(beyond_allowance(h.claim), capacity);
    const std::uint64_t need = claim > held ? claim - held : 0;
    total += held;
    if (held == 0 && hid != id) continue;  // holds nothing: waiting for it blocks no one
    need_held.emplace_back(need, held);
    largest_need = std::max(largest_need, need);
  }
  if (total > capacity) return false;
  std::uint64_t free = capacity - total;
  if (free >= largest_need) return true;  // the usual case: anyone can finish from what is free
  std::sort(need_held.begin(), need_held.end());
  for (const auto& [need, held] : need_held) {
    if (need > free) return false;
    free += held;
  }
  return true;
}

}  // namespace ferry::inbound
