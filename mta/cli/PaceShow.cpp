// PaceShow: see PaceShow.hpp.
#include "mta/cli/PaceShow.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <set>

#include "ferry/JsonWriter.hpp"
#include "ferry/text/Ascii.hpp"
#include "ferry/text/Rate.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/delivery/PaceState.hpp"
#include "mta/delivery/RoutePlan.hpp"

namespace ferry::cli {

namespace {

constexpr std::size_t kMaxStateBytes = 4 << 20;

std::optional<delivery::PaceStateFile> read_state(const std::string& queue_path) {
  const int fd = ::open((queue_path + "/pace-state").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[8192];
  for (ssize_t n; text.size() < kMaxStateBytes && (n = ::read(fd, buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return delivery::parse_pace_state(text);
}

struct Row {
  std::string destination;
  std::string key;
  const delivery::PaceStatus* status;
};

// One row per distinct recipient domain still pending, whose pace the daemon keeps.
std::vector<Row> rows_for(const delivery::PaceStateFile& state, const queue::MessageRecord& m) {
  std::set<std::string> domains;
  for (const auto& r : m.recipients)
    if (r.state == RecipientState::Pending && r.index < m.envelope.recipients.size())
      domains.insert(text::to_lower(delivery::domain_of(m.envelope.recipients[r.index].address)));
  std::vector<Row> rows;
  for (const auto& d : domains) {
    std::string key = delivery::pace_key_of(state, d);
    if (key.empty()) key = d;
    if (const auto* s = delivery::pace_status_of(state, key); s && (s->rate > 0 || s->backed_off))
      rows.push_back({d, key, s});
  }
  return rows;
}

}  // namespace

std::string format_pace_text(const std::string& queue_path, const queue::MessageRecord& m, TimeMs now) {
  const auto state = read_state(queue_path);
  if (!state) return {};
  std::string out;
  for (const auto& row : rows_for(*state, m)) {
    const auto& s = *row.status;
    // Names come from recipient addresses and the daemon's state file: escaped for the terminal.
    out += "pace: " + text::safe_text(row.destination) +
           (row.key != row.destination ? " (" + text::safe_text(row.key) + ")" : "") +
           ": rate=" + text::format_rate(s.rate) + " configured=" + text::format_rate(s.configured);
    if (s.backed_off && s.next_step_at)
      out += ", backed off (rate_limited), next step up in " +
             std::to_string(std::max<TimeMs>(0, (*s.next_step_at - now + 999) / 1000)) + "s";
    out += "\n";
  }
  if (!out.empty()) out = "Pacing (as of " + format_time(state->written_ms) + "):\n" + out;
  return out;
}

std::string format_pace_json(const std::string& queue_path, const queue::MessageRecord& m) {
  JsonWriter w;
  w.begin_array();
  if (const auto state = read_state(queue_path)) {
    for (const auto& row : rows_for(*state, m)) {
      const auto& s = *row.status;
      w.begin_object().key("destination").value(row.destination).key("key").value(row.key);
      w.key("rate").value(text::format_rate(s.rate)).key("configured").value(text::format_rate(s.configured));
      w.key("backed_off").value(s.backed_off).key("next_step");
      if (s.next_step_at)
        w.value(format_time(*s.next_step_at));
      else
        w.null();
      w.key("state_written").value(format_time(state->written_ms)).end_object();
    }
  }
  w.end_array();
  return w.str();
}

}  // namespace ferry::cli
