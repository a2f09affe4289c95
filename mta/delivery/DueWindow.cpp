// DueWindow: see DueWindow.hpp.
#include "mta/delivery/DueWindow.hpp"

#include <algorithm>

namespace ferry::delivery {

namespace {
std::uint64_t ordinal(TimeMs t) { return t < 0 ? 0 : static_cast<std::uint64_t>(t); }
}  // namespace

std::strong_ordering operator<=>(const DueEntry& a, const DueEntry& b) {
  if (auto c = ordinal(a.due) <=> ordinal(b.due); c != 0) return c;
  if (auto c = a.id.value <=> b.id.value; c != 0) return c;
  return a.index <=> b.index;
}

DueWindow::DueWindow(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 2)) {}

void DueWindow::reloaded(std::size_t asked, std::size_t got, const std::optional<DueEntry>& last) {
  bound_.reset();
  refilled(asked, got, last);
}

void DueWindow::refilled(std::size_t asked, std::size_t got, const std::optional<DueEntry>& last) {
  // A short read reached the end of the index: every entry is now in memory or added directly.
  if (got < asked || !last)
    bound_.reset();
  else
    bound_ = last;
}

bool DueWindow::covers(const DueEntry& e) const { return !bound_ || e <= *bound_; }

bool DueWindow::admits(const DueEntry& e, std::size_t in_memory) const {
  return covers(e) || in_memory < hard_cap();
}

std::size_t DueWindow::refill_want(std::size_t in_memory, TimeMs now) const {
  if (!bound_ || in_memory >= hard_cap()) return 0;
  if (in_memory < capacity_ / 2) return capacity_ - in_memory;
  if (ordinal(bound_->due) <= ordinal(now)) return std::min(capacity_ / 2, hard_cap() - in_memory);
  return 0;
}

}  // namespace ferry::delivery
