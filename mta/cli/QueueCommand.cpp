// QueueCommand: `ferry queue list|show|flush|hold|release|delete`, the mailq/postsuper of Ferry.
// Works while the daemon runs: LMDB is multi-process, so the CLI opens the same environment,
// with the rights of the queue's owner (root switches to it first).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/PaceShow.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/cli/QueueListFilter.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/ops/PidFile.hpp"
#include "mta/ops/SystemClock.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::cli {
namespace {

void queue_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry queue [--config FILE] <command>\n"
      "  list [--json]        every queued message and recipient (mailq), streamed; with\n"
      "       [--limit N] [--domain D] [--sender S|@D|<>] [--state pending|deferred|active|held]\n"
      "                       only the first N messages that match every filter given\n"
      "  show ID [--json]     envelope, attempt history and headers of one message\n"
      "  flush [ID]           make every pending recipient (of ID) due now\n"
      "  hold ID              stop delivery attempts for ID\n"
      "  release ID           undo hold; due now\n"
      "  delete ID            remove ID from the queue without a bounce\n",
      out);
}

int report(const Error& e, const std::string& what) {
  std::fprintf(stderr, "ferry: queue %s: %s\n", what.c_str(), e.message.c_str());
  return kExitFailure;
}

std::optional<QueueId> parse_id(const std::string& text) {
  auto id = QueueId::parse(text);
  if (!id) std::fprintf(stderr, "ferry: queue: '%s' is not a queue id\n", text.c_str());
  return id;
}

int not_found(const std::string& id) {
  std::fprintf(stderr, "ferry: queue: no message with id %s\n", id.c_str());
  return kExitFailure;
}

// The command line after the common options: a sub-command, its operands, --json.
struct QueueRequest {
  CommonOptions common;
  std::string sub;
  Args positional;  // sub-command first
  bool json = false;
  QueueListFilter filter;
  bool filtered = false;  // a list option was given
};

// The sub-command, its operand count and --json checked; an exit code when they do not fit.
std::optional<int> check_queue_command(const QueueRequest& req) {
  const std::string& sub = req.sub;
  const std::size_t n = req.positional.size();
  const bool needs_id = sub == "show" || sub == "hold" || sub == "release" || sub == "delete";
  const bool known = needs_id || sub == "list" || sub == "flush";
  if (!known) {
    std::fprintf(stderr, "ferry: queue: unknown command '%s'\n", sub.c_str());
    queue_usage(stderr);
    return kExitUsage;
  }
  if ((needs_id && n != 2) || (sub == "list" && n != 1) || (sub == "flush" && n > 2)) {
    queue_usage(stderr);
    return kExitUsage;
  }
  if (req.filtered && sub != "list") {
    std::fprintf(stderr, "ferry: queue: --limit, --domain, --sender and --state apply to list only\n");
    return kExitUsage;
  }
  if (req.json && sub != "list" && sub != "show") {
    std::fprintf(stderr, "ferry: queue: --json applies to list and show only\n");
    return kExitUsage;
  }
  return std::nullopt;
}

// A `list` option at args[i] (its value is consumed): kExitOk when it was one, kExitUsage when
// it was one with a bad value, nullopt when args[i] is something else.
std::optional<int> parse_list_option(const Args& args, std::size_t& i, QueueRequest& req) {
  const std::string& a = args[i];
  if (a != "--limit" && a != "--domain" && a != "--sender" && a != "--state") return std::nullopt;
  if (i + 1 >= args.size()) {
    std::fprintf(stderr, "ferry: queue: %s needs a value\n", a.c_str());
    return kExitUsage;
  }
  const std::string& v = args[++i];
  req.filtered = true;
  if (a == "--limit") {
    // Digits only, bounded: a count the operator typed, never more than the queue can hold.
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || v == "0") {
      std::fprintf(stderr, "ferry: queue: --limit takes a count from 1 to 999999999\n");
      return kExitUsage;
    }
    req.filter.limit = std::stoul(v);
  } else if (a == "--state") {
    req.filter.state = parse_list_state(v);
    if (!req.filter.state) {
      std::fprintf(stderr,
                   "ferry: queue: --state is one of pending, deferred, active, held, delivered, failed\n");
      return kExitUsage;
    }
  } else {
    (a == "--domain" ? req.filter.domain : req.filter.sender) = v;
  }
  return kExitOk;
}

// Fills `req`; an exit code when the command ends here (help, a usage error).
std::optional<int> parse_queue_args(const Args& raw, QueueRequest& req) {
  Args args;
  if (int rc = parse_common_options(raw, req.common, args); rc != kExitOk) return rc;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (auto rc = parse_list_option(args, i, req)) {
      if (*rc != kExitOk) return rc;
      continue;
    }
    if (a == "--json")
      req.json = true;
    else if (a == "-h" || a == "--help") {
      queue_usage(stdout);
      return kExitOk;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "ferry: queue: unknown option '%s'\n", a.c_str());
      queue_usage(stderr);
      return kExitUsage;
    } else
      req.positional.push_back(a);
  }
  if (req.positional.empty()) {
    queue_usage(stderr);
    return kExitUsage;
  }
  req.sub = req.positional[0];
  return check_queue_command(req);
}

// Streams: each matching message is printed as it is read, so the first lines of a queue of a
// million messages come at once and memory does not grow with the queue.
int run_list(queue::QueueStore& q, bool json, const QueueListFilter& filter, bool filtered) {
  std::size_t shown = 0;
  std::uint64_t bytes = 0;
  if (json) std::fputs("[", stdout);
  auto r = q.for_each([&](const queue::MessageRecord& m) {
    if (!filter.matches(m)) return true;
    if (json)
      std::fputs(((shown ? "," : "") + format_list_entry_json(m)).c_str(), stdout);
    else
      std::fputs(((shown ? "" : format_list_header()) + format_list_entry_text(m)).c_str(), stdout);
    bytes += m.envelope.size;
    ++shown;
    return filter.limit == 0 || shown < filter.limit;
  });
  if (json)
    std::fputs("]\n", stdout);
  else if (shown)
    std::fputs(format_list_footer(bytes, shown).c_str(), stdout);
  else
    std::fputs(filtered ? "No queued message matches\n" : "Mail queue is empty\n", stdout);
  if (!r) return report(r.error(), "list");
  return kExitOk;
}

int run_show(queue::QueueStore& q, QueueId id, const std::string& id_text, bool json,
             const std::string& queue_path) {
  auto m = q.load(id);
  if (!m) return m.error().kind == ErrorKind::NotFound ? not_found(id_text) : report(m.error(), "show");
  auto body = q.read_body(id);
  if (!body) return report(body.error(), "show");
  std::string out = json ? format_show_json(*m, *body) : format_show_text(*m, *body);
  // The daemon's pace of the destinations still to deliver to (its state file, not LMDB).
  if (json && out.size() >= 2 && out.compare(out.size() - 2, 2, "}\n") == 0)
    out = out.substr(0, out.size() - 2) + ",\"pace\":" + format_pace_json(queue_path, *m) + "}\n";
  else if (!json)
    out += format_pace_text(queue_path, *m, now_ms());
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

// hold, release, delete, flush: one change, then the daemon is woken to act on it.
int run_change(queue::QueueStore& q, const config::Config& config, const QueueRequest& req,
               std::optional<QueueId> id) {
  const std::string& sub = req.sub;
  Result<void> r = sub == "hold"      ? q.hold(*id)
                   : sub == "release" ? q.release(*id, now_ms())
                   : sub == "delete"  ? q.remove(*id)
                                      : q.flush(id, now_ms());
  if (r) {
    ops::wake_daemon(config.queue.path);
    const char* done = sub == "hold"      ? "held"
                       : sub == "release" ? "released"
                       : sub == "delete"  ? "deleted"
                                          : "flushed";
    std::printf("%s: %s\n", id ? id->str().c_str() : "queue", done);
    return kExitOk;
  }
  if (r.error().kind == ErrorKind::NotFound) return not_found(req.positional[1]);
  return report(r.error(), sub);
}

}  // namespace

int cmd_queue(const Args& raw) {
  QueueRequest req;
  if (auto rc = parse_queue_args(raw, req)) return *rc;

  auto config = load_cli_config(req.common);
  if (!config) return kExitConfig;
  // Root never opens the queue as root: the switch to its owner comes first.
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: queue: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  auto store = queue::QueueStore::open(queue_options(*config));
  if (!store) {
    std::fprintf(stderr, "ferry: queue: cannot open the queue: %s\n", store.error().message.c_str());
    return kExitTempFail;
  }
  queue::QueueStore& q = **store;
  if (req.sub == "list") return run_list(q, req.json, req.filter, req.filtered);

  std::optional<QueueId> id;
  if (req.positional.size() == 2) {
    id = parse_id(req.positional[1]);
    if (!id) return kExitFailure;
  }
  if (req.sub == "show") return run_show(q, *id, req.positional[1], req.json, config->queue.path);
  return run_change(q, *config, req, id);
}

}  // namespace ferry::cli
