// AttemptText: one attempt in Postfix's log notation, shared by the delivery log lines and
// `ferry queue list/show` so an operator can match one with the other.
// Contract: pure; the results are single lines (CR and LF become spaces).
#pragma once

#include <string>

#include "ferry/RecipientState.hpp"

namespace ferry::delivery {

// "mx.example.org[192.0.2.1]:25" (Postfix's relay=), "192.0.2.1:25" when no name is known,
// "none" when the attempt never reached a host.
std::string relay_text(const Attempt& attempt);

// "451 4.7.1 Greylisted, try later": code, then the enhanced status unless the text already
// starts with it, then the reply text (or the local error) on one line.
std::string reply_text(const Attempt& attempt);

}  // namespace ferry::delivery
