// EventJson: see EventJson.hpp.
#include "mta/events/EventJson.hpp"

#include <cstdio>

#include "ferry/JsonEscape.hpp"
#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::events {

namespace {

void field(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += json_quote(value);
}

void field(std::string& out, const char* name, std::int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

// Howard Hinnant's days_from_civil inverse: the proleptic Gregorian date of a day number.
void civil(std::int64_t days, int& y, unsigned& m, unsigned& d) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

}  // namespace

std::string rfc3339_ms(TimeMs t) {
  std::int64_t days = t / 86'400'000;
  std::int64_t rest = t % 86'400'000;
  if (rest < 0) {
    rest += 86'400'000;
    --days;
  }
  int y;
  unsigned mo, d;
  civil(days, y, mo, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d,
                static_cast<int>(rest / 3'600'000), static_cast<int>(rest / 60'000 % 60),
                static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return buf;
}

std::string event_json(const DeliveryEvent& e) {
  std::string out = "{\"id\":" + json_quote(e.event_id());
  field(out, "seq", static_cast<std::int64_t>(e.seq));
  field(out, "time", rfc3339_ms(e.time_ms));
  field(out, "status", to_string(e.kind));
  field(out, "queue_id", e.id.str());
  field(out, "message_id", e.message_id);
  field(out, "sender", e.sender);
  field(out, "recipient", e.recipient);
  field(out, "attempt", static_cast<std::int64_t>(e.attempts));
  if (e.attempt) {
    const Attempt& a = *e.attempt;
    field(out, "code", a.code);
    field(out, "enhanced_code", a.status);
    // The queue stores the attempt; its category is the classifier's, decided here.
    field(out, "category", delivery::classify_reply_category(a).category);
    field(out, "remote_host", a.host);
    field(out, "remote_ip", a.ip);
    field(out, "tls", a.tls);
    field(out, "reply", a.reply);
  }
  out += '}';
  return out;
}

std::string batch_json(std::span<const DeliveryEvent> events) {
  std::string out = "{\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += event_json(events[i]);
  }
  out += "]}";
  return out;
}

}  // namespace ferry::events
