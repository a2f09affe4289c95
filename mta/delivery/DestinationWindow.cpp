// DestinationWindow: see DestinationWindow.hpp.
#include "mta/delivery/DestinationWindow.hpp"

#include <algorithm>

namespace ferry::delivery {

DestinationWindow::DestinationWindow(std::size_t initial, std::size_t max)
    : max_(std::max<std::size_t>(1, max)),
      size_(initial == 0 ? max_ : std::clamp<std::size_t>(initial, 1, max_)) {}

void DestinationWindow::delivered() {
  if (size_ < max_) ++size_;
}

void DestinationWindow::failed() {
  if (size_ > 1) --size_;
}

void DestinationWindow::set_limits(std::size_t initial, std::size_t max) {
  max_ = std::max<std::size_t>(1, max);
  if (initial == 0) size_ = max_;
  size_ = std::clamp<std::size_t>(size_, 1, max_);
}

}  // namespace ferry::delivery
