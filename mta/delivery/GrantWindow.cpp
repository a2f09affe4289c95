// GrantWindow: see GrantWindow.hpp.
#include "mta/delivery/GrantWindow.hpp"

#include <algorithm>

namespace ferry::delivery {

void GrantWindow::record(TimeMs now) {
  grants_.push_back(now);
  while (grants_.size() > kMax || (!grants_.empty() && grants_.front() <= now - kWindowMs))
    grants_.pop_front();
}

double GrantWindow::rate(TimeMs now) const {
  std::size_t n = 0;
  TimeMs oldest = now;
  for (TimeMs t : grants_)
    if (t > now - kWindowMs) ++n, oldest = std::min(oldest, t);
  if (n == 0) return 1.0;
  const double span_s = std::max<double>(1.0, static_cast<double>(now - oldest) / 1000.0);
  return static_cast<double>(n) / span_s;
}

}  // namespace ferry::delivery
