// PaceState: see PaceState.hpp. Lines:
//   ferry-pace-state 1 <written_ms>
//   d <key> <rate> <configured> <backed_off 0|1> <next_step_ms or -> <connections>
//   k <scheduler destination> <key>
#include "mta/delivery/PaceState.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace ferry::delivery {

namespace {

constexpr std::string_view kMagic = "ferry-pace-state 1 ";
constexpr std::size_t kMaxName = 512;

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> out;
  while (out.size() < 8) {
    const auto tab = line.find('\t');
    out.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) break;
    line.remove_prefix(tab + 1);
  }
  return out;
}

// A name fit for a line of its own: no tab, no line break, no control character, bounded.
bool clean(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<TimeMs> number(std::string_view s) {
  TimeMs v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> real(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(v >= 0) || v > 1e12) return std::nullopt;
  return v;
}

std::optional<PaceStatus> destination(const std::vector<std::string_view>& f) {
  if (f.size() != 7 || !clean(f[1])) return std::nullopt;
  const auto rate = real(f[2]), configured = real(f[3]);
  const auto connections = number(f[6]);
  if (!rate || !configured || !connections || *connections < 0 || (f[4] != "0" && f[4] != "1"))
    return std::nullopt;
  PaceStatus s;
  s.destination = std::string(f[1]);
  s.rate = *rate;
  s.configured = *configured;
  s.backed_off = f[4] == "1";
  if (f[5] != "-") {
    s.next_step_at = number(f[5]);
    if (!s.next_step_at) return std::nullopt;
  }
  s.connections = static_cast<std::size_t>(*connections);
  return s;
}

}  // namespace

std::string format_pace_state(const PaceStateFile& state) {
  std::string out = std::string(kMagic) + std::to_string(state.written_ms) + "\n";
  std::size_t n = 0;
  for (const auto& d : state.destinations) {
    if (!clean(d.destination) || ++n > kPaceStateMaxRecords) continue;
    char nums[96];
    std::snprintf(nums, sizeof nums, "%.6g\t%.6g\t%d", d.rate, d.configured, d.backed_off ? 1 : 0);
    out += "d\t" + d.destination + "\t" + nums + "\t" +
           (d.next_step_at ? std::to_string(*d.next_step_at) : std::string("-")) + "\t" +
           std::to_string(d.connections) + "\n";
  }
  n = 0;
  for (const auto& [dest, key] : state.keys)
    if (clean(dest) && clean(key) && ++n <= kPaceStateMaxRecords) out += "k\t" + dest + "\t" + key + "\n";
  return out;
}

std::optional<PaceStateFile> parse_pace_state(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  text.remove_prefix(kMagic.size());
  const auto eol = text.find('\n');
  PaceStateFile state;
  const auto written = number(text.substr(0, eol));
  if (!written) return std::nullopt;
  state.written_ms = *written;
  text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const auto f = split_tabs(line);
    if (f[0] == "d" && state.destinations.size() < kPaceStateMaxRecords) {
      if (auto d = destination(f)) state.destinations.push_back(std::move(*d));
    } else if (f[0] == "k" && f.size() == 3 && clean(f[1]) && clean(f[2]) &&
               state.keys.size() < kPaceStateMaxRecords) {
      state.keys.emplace_back(std::string(f[1]), std::string(f[2]));
    }
  }
  return state;
}

std::string pace_key_of(const PaceStateFile& state, std::string_view destination) {
  for (const auto& [dest, key] : state.keys)
    if (dest == destination) return key;
  return {};
}

const PaceStatus* pace_status_of(const PaceStateFile& state, std::string_view key) {
  for (const auto& d : state.destinations)
    if (d.destination == key) return &d;
  return nullptr;
}

}  // namespace ferry::delivery
