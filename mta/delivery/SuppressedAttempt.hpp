// SuppressedAttempt: the result recorded for a queued recipient whose address is on the
// suppression list — a permanent failure made without a connection.
// Contract: pure; the entry and the time are arguments; the text names the suppression so the
// bounce tells the sender why nothing was tried.
#pragma once

#include <string_view>

#include "ferry/RecipientState.hpp"
#include "ferry/Suppression.hpp"

namespace ferry::delivery {

// Permanent, 550 5.1.1 (RFC 3463 §3.2: bad destination mailbox address), no host: the reply is
// suppression_text() — "<a@b>: suppressed after a hard bounce on 2026-12-08 (unknown_user)".
Attempt suppressed_attempt(std::string_view address, const SuppressionEntry& entry, TimeMs now);

}  // namespace ferry::delivery
