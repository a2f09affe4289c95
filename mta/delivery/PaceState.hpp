// PaceState: the text form of the daemon's pacing state (`<queue>/pace-state`), written by the
// daemon when a rate changes and read by `ferry queue show` and by the daemon at start.
// Contract: pure; one record per line, tab-separated, versioned; parse() skips what it does not
// understand and bounds what it reads (lines, fields, names).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Clock.hpp"
#include "mta/delivery/PaceLimiter.hpp"

namespace ferry::delivery {

struct PaceStateFile {
  TimeMs written_ms = 0;
  std::vector<PaceStatus> destinations;  // PaceStatus::destination = the pacing key's name
  // scheduler destination (recipient domain, or a route's "host:port") -> pacing key name
  std::vector<std::pair<std::string, std::string>> keys;
};

// At most this many records of each kind are written or read.
inline constexpr std::size_t kPaceStateMaxRecords = 10000;

std::string format_pace_state(const PaceStateFile& state);
// nullopt when the text is not a pace state of this version.
std::optional<PaceStateFile> parse_pace_state(std::string_view text);

// The pacing key of `destination` in `state` ("" when unknown).
std::string pace_key_of(const PaceStateFile& state, std::string_view destination);
const PaceStatus* pace_status_of(const PaceStateFile& state, std::string_view key);

}  // namespace ferry::delivery
