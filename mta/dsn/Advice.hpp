// Advice: the plain-words explanation of an RFC 3463 status for the human-readable DSN part.
// Contract: pure table lookup (exact code, then subject, then class); always returns some text.
#pragma once

#include <string_view>

namespace ferry::dsn {

struct Advice {
  std::string_view meaning;     // what the status most likely means, one or two sentences
  std::string_view what_to_do;  // what the sender can do about it
};

// `status` is "x.y.z" (as produced by status_for). Codes with class 4 get the wording of the
// transient case where it differs (a delay is not a verdict).
Advice advice_for(std::string_view status);

}  // namespace ferry::dsn
