// DateTime: RFC 5322 §3.3 date-time text for DSN header fields (Date, Arrival-Date, ...).
// Contract: pure; the time and the zone offset are arguments; the zone is always numeric (RFC 3464 §2.2.5).
#pragma once

#include <string>

#include "ferry/Clock.hpp"

namespace ferry::dsn {

// "Thu, 01 Feb 2024 10:00:00 +0100" for `time_ms` shown in a zone `utc_offset_minutes` east of
// UTC (negative west). Offsets are clamped to ±99:59, which is what the grammar can express.
std::string rfc5322_date(TimeMs time_ms, int utc_offset_minutes = 0);

}  // namespace ferry::dsn
