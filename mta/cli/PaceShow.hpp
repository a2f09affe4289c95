// PaceShow: the pacing part of `ferry queue show`: the running daemon's pace of each destination
// the message still waits for, read from `<queue>/pace-state` (the daemon rewrites it within a
// second of a rate change). Contract: reads one bounded file, never follows a symlink; prints
// nothing for destinations the daemon does not pace.
#pragma once

#include <string>

#include "ferry/Clock.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::cli {

// "Pacing:" lines for the message's pending recipients' destinations ("" when none is paced).
std::string format_pace_text(const std::string& queue_path, const queue::MessageRecord& m, TimeMs now);
// The same as a JSON array of objects (destination, key, rate, configured, backed_off,
// next_step, state_written); "[]" when none.
std::string format_pace_json(const std::string& queue_path, const queue::MessageRecord& m);

}  // namespace ferry::cli
