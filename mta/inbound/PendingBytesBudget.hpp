// PendingBytesBudget: the memory all SMTP connections together may hold for messages not yet
// committed ([smtp] max_pending_bytes). Contract: pure and single-threaded (the I/O thread); a
// grant never takes the total past the capacity nor into a state where some holder could not
// grow to its claim and finish (the banker's rule), so waiting holders cannot deadlock.
#pragma once

#include <cstdint>
#include <unordered_map>

namespace ferry::inbound {

class PendingBytesBudget {
 public:
  using HolderId = std::uint64_t;

  // Each holder's first `allowance` bytes are set aside for it from the capacity: they are always
  // granted, and memory counted after the fact (force_set) up to that size cannot make the state
  // unsafe. Past it, the banker's rule decides.
  explicit PendingBytesBudget(std::uint64_t capacity, std::uint64_t allowance = 0)
      : capacity_(capacity), allowance_(allowance) {}

  // A new holder that may grow to `claim` bytes (its largest message and the copies made of it).
  // A claim above what the budget can ever give it is cut: it can then finish only alone.
  HolderId add(std::uint64_t claim);
  // Releases everything the holder had.
  void remove(HolderId id);

  // Sets the holder's bytes to `bytes` when that is safe: shrinking always is, and so is growing
  // within the allowance; past it, growing is when the holders' bytes beyond their allowances stay
  // within what the allowances leave of the capacity and the holders can still finish one after
  // another. False (nothing changed) otherwise: the caller waits for a release.
  bool try_set(HolderId id, std::uint64_t bytes);
  // Sets the holder's bytes unconditionally: memory already allocated must be counted even when it
  // takes the total over the capacity (then no growth is granted until enough is released).
  void force_set(HolderId id, std::uint64_t bytes);

  void set_capacity(std::uint64_t capacity) { capacity_ = capacity; }
  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t total() const { return total_; }
  std::uint64_t held(HolderId id) const;
  std::size_t holders() const { return holders_.size(); }

 private:
  struct Holder {
    std::uint64_t claim = 0;
    std::uint64_t bytes = 0;
  };
  std::uint64_t beyond_allowance(std::uint64_t bytes) const {
    return bytes > allowance_ ? bytes - allowance_ : 0;
  }
  bool safe_after(HolderId id, std::uint64_t bytes) const;

  std::uint64_t capacity_;
  std::uint64_t allowance_;
  std::uint64_t total_ = 0;
  HolderId next_ = 1;
  std::unordered_map<HolderId, Holder> holders_;
};

}  // namespace ferry::inbound
