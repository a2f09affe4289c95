// EventsCommand: `ferry events tail [-n N] [--follow] [--json]`: the delivery events outbox in
// the queue, read as the queue's owner (like `ferry queue`), newest last. --follow polls the
// outbox twice a second for new events until SIGINT or SIGTERM, then exits 0.
#include <signal.h>
#include <time.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <string>

#include "ferry/text/SafeText.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/events/EventJson.hpp"

namespace ferry::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop(int) { g_stop = 1; }

constexpr std::size_t kMaxTail = 100000;
constexpr std::size_t kFollowBatch = 1000;

void events_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry events [--config FILE] tail [-n N] [--follow] [--json]\n"
      "  tail       the newest N delivery events of the outbox (default 20), oldest first\n"
      "  --follow   then wait for new events and print them as they come (SIGINT/SIGTERM ends)\n"
      "  --json     one JSON object per line, as the [[events]] sinks send them\n",
      out);
}

std::string text_line(const DeliveryEvent& e) {
  std::string line = events::rfc3339_ms(e.time_ms) + " " + e.id.str() + " " + std::string(to_string(e.kind));
  if (!e.recipient.empty()) line += " to=<" + text::safe_text(e.recipient) + ">";
  line += " from=<" + text::safe_text(e.sender) + ">";
  if (!e.message_id.empty()) line += " message-id=<" + text::safe_text(e.message_id) + ">";
  if (e.attempt) {
    const Attempt& a = *e.attempt;
    const auto category = delivery::classify_reply_category(a).category;
    line += " attempt=" + std::to_string(e.attempts);
    if (!a.host.empty()) line += " relay=" + text::safe_text(a.host) + "[" + text::safe_text(a.ip) + "]";
    if (!a.status.empty()) line += " dsn=" + text::safe_text(a.status);
    if (!category.empty()) line += " category=" + std::string(category);
    line += " (" + text::safe_text(a.reply) + ")";
  }
  return line;
}

void print(const DeliveryEvent& e, bool json) {
  const std::string line = json ? events::event_json(e) : text_line(e);
  std::printf("%s\n", line.c_str());
}

// Polls until a signal: every 500 ms, whatever follows `after`.
int follow(queue::QueueStore& q, std::uint64_t after, bool json) {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  while (!g_stop) {
    auto batch = q.events_after(after, kFollowBatch);
    if (!batch) {
      std::fprintf(stderr, "ferry: events: %s\n", batch.error().message.c_str());
      return kExitTempFail;
    }
    for (const auto& e : *batch) print(e, json);
    if (!batch->empty()) after = batch->back().seq;
    std::fflush(stdout);
    if (batch->size() == kFollowBatch) continue;
    timespec ts{0, 500'000'000};
    ::nanosleep(&ts, nullptr);  // a signal ends it early; g_stop then ends the loop
  }
  return kExitOk;
}

int tail(queue::QueueStore& q, std::size_t n, bool follow_too, bool json) {
  auto last = q.last_event_seq();
  if (!last) {
    std::fprintf(stderr, "ferry: events: %s\n", last.error().message.c_str());
    return kExitTempFail;
  }
  const std::uint64_t from = *last > n ? *last - n : 0;
  auto batch = q.events_after(from, n);
  if (!batch) {
    std::fprintf(stderr, "ferry: events: %s\n", batch.error().message.c_str());
    return kExitTempFail;
  }
  for (const auto& e : *batch) print(e, json);
  std::fflush(stdout);
  return follow_too ? follow(q, *last, json) : kExitOk;
}

bool parse_count(const std::string& s, std::size_t& n) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && p == s.data() + s.size() && n <= kMaxTail;
}

}  // namespace

int cmd_events(const Args& raw) {
  CommonOptions common;
  Args args;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  bool json = false, follow_too = false, have_tail = false;
  std::size_t n = 20;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--follow" || a == "-f") {
      follow_too = true;
    } else if (a == "-n" && i + 1 < args.size() && parse_count(args[i + 1], n)) {
      ++i;
    } else if (a == "-h" || a == "--help") {
      events_usage(stdout);
      return kExitOk;
    } else if (a == "tail" && !have_tail) {
      have_tail = true;
    } else {
      events_usage(stderr);
      return kExitUsage;
    }
  }
  if (!have_tail) {
    events_usage(stderr);
    return kExitUsage;
  }
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: events: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  queue::QueueOptions options = queue_options(*config);
  options.read_only = true;
  auto store = queue::QueueStore::open(options);
  if (!store) {
    std::fprintf(stderr, "ferry: events: cannot open the queue: %s\n", store.error().message.c_str());
    return kExitTempFail;
  }
  return tail(**store, n, follow_too, json);
}

}  // namespace ferry::cli
