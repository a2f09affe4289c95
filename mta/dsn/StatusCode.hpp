// StatusCode: the RFC 3463 status a DSN recipient group carries, and the Action it goes with.
// Contract: pure; the Status class always agrees with the Action (RFC 3464 §2.3.4, RFC 3463 §3.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/RecipientState.hpp"

namespace ferry::dsn {

// RFC 3464 §2.3.3 action values ("expanded" is never produced: Ferry does not expand lists).
enum class Action : std::uint8_t { Failed, Delayed, Delivered, Relayed };

const char* to_string(Action action) noexcept;

// RFC 3463 §2 syntax: class 2, 4 or 5; subject and detail 1–3 digits without leading zeros.
bool valid_status(std::string_view status) noexcept;

// The Status for `action` given the deciding attempt: the attempt's own enhanced status when
// valid; else 4.4.7 for an expiry; else derived from the reply code (2xx → 2.0.0, 4xx → 4.0.0,
// 5xx → 5.0.0); else the action's generic code. Then the class is made to agree: failed → 4 or 5
// (5.0.0 replaces a success code), delayed → 4, delivered/relayed → 2.0.0 unless already 2.
std::string status_for(Action action, const Attempt& attempt);

}  // namespace ferry::dsn
