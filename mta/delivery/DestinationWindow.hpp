// DestinationWindow: how many connections one destination may have open at once (slow start).
// Contract: pure; the window starts at `initial` (at most `max`, at least 1), grows by one per
// successful delivery up to `max`, and shrinks by one (never below 1) per connection failure or
// 421, as Postfix's initial_destination_concurrency and its positive/negative feedback do.
#pragma once

#include <cstddef>

namespace ferry::delivery {

class DestinationWindow {
 public:
  // initial == 0: no slow start (the window opens at max at once).
  DestinationWindow(std::size_t initial, std::size_t max);

  std::size_t size() const noexcept { return size_; }
  // A message was delivered through this destination: the remote copes, allow one more.
  void delivered();
  // A connection was refused, timed out, lost, or answered 421 (RFC 5321 §3.8: the server is
  // closing the channel, often "too many connections"): one fewer.
  void failed();
  // New limits (configuration reload): the size is kept, clamped into the new bounds.
  void set_limits(std::size_t initial, std::size_t max);

 private:
  std::size_t max_;
  std::size_t size_;
};

}  // namespace ferry::delivery
