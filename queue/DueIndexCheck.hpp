// DueIndexCheck: start-up recovery's check of the due index against the Pending recipients.
// Contract: pure; one merge in recipient key order, 24 bytes of memory per due entry, exact (no
// hashing): every due entry is backed by exactly one Pending recipient at its due time or reported.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include "ferry/QueueId.hpp"

namespace ferry::queue {

class DueIndexCheck {
 public:
  struct Entry {
    std::uint64_t due = 0;  // the index's ordinal (due_ordinal)
    QueueId id;
    std::uint32_t index = 0;
  };

  // Room for the index's entry count up front (no doubling of a large vector while adding).
  void reserve(std::size_t entries) { indexed_.reserve(entries); }
  // Every parseable entry of the due index, in any order.
  void add_indexed(const Entry& e) { indexed_.push_back(e); }
  // Once all are added: orders them as the recipients table is walked (id, recipient).
  void sort() {
    std::sort(indexed_.begin(), indexed_.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.id.value, a.index, a.due) < std::tie(b.id.value, b.index, b.due);
    });
  }

  // Each recipient record, in ascending (id, index) order. `pending_due`: the record is a live
  // Pending recipient due at that ordinal (nullopt: anything else, including a record that is
  // about to be quarantined). Returns true when that Pending recipient has no due entry.
  bool visit(QueueId id, std::uint32_t index, std::optional<std::uint64_t> pending_due) {
    const auto key = std::make_tuple(id.value, index);
    while (pos_ < indexed_.size() && std::make_tuple(indexed_[pos_].id.value, indexed_[pos_].index) < key)
      unbacked_.push_back(indexed_[pos_++]);  // no recipient record at all
    bool backed = false;
    for (; pos_ < indexed_.size() && std::make_tuple(indexed_[pos_].id.value, indexed_[pos_].index) == key;
         ++pos_) {
      if (pending_due && !backed && indexed_[pos_].due == *pending_due)
        backed = true;
      else
        unbacked_.push_back(indexed_[pos_]);  // a stale time, a duplicate, or not Pending
    }
    return pending_due && !backed;
  }

  // After the last visit: the due entries no Pending recipient backs (to delete).
  const std::vector<Entry>& finish() {
    while (pos_ < indexed_.size()) unbacked_.push_back(indexed_[pos_++]);
    indexed_.clear();
    indexed_.shrink_to_fit();
    return unbacked_;
  }

 private:
  std::vector<Entry> indexed_;
  std::size_t pos_ = 0;
  std::vector<Entry> unbacked_;
};

}  // namespace ferry::queue
