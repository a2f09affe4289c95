// SuppressedAttempt: see SuppressedAttempt.hpp.
#include "mta/delivery/SuppressedAttempt.hpp"

namespace ferry::delivery {

Attempt suppressed_attempt(std::string_view address, const SuppressionEntry& entry, TimeMs now) {
  Attempt a;
  a.time_ms = now;
  a.outcome = AttemptOutcome::Permanent;
  a.code = 550;
  a.status = "5.1.1";
  a.reply = suppression_text(address, entry);
  return a;
}

}  // namespace ferry::delivery
