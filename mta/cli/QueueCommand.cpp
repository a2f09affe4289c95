// QueueCommand: `ferry queue list|show|flush|hold|release|delete`, the mailq/postsuper of Ferry.
// Works while the daemon runs: LMDB is multi-process, so the CLI opens the same environment,
// with the rights of the queue's owner (root switches to it first).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/daemon/PidFile.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::cli {
namespace {

void queue_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry queue [--config FILE] <command>\n"
      "  list [--json]        every queued message and recipient (mailq)\n"
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

}  // namespace

int cmd_queue(const Args& raw) {
  CommonOptions common;
  Args args;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  bool json = false;
  Args positional;
  for (const auto& a : args) {
    if (a == "--json") json = true;
    else if (a == "-h" || a == "--help") { queue_usage(stdout); return kExitOk; }
    else if (a.starts_with("-")) {
      std::fprintf(stderr, "ferry: queue: unknown option '%s'\n", a.c_str());
      queue_usage(stderr);
      return kExitUsage;
    } else positional.push_back(a);
  }
  if (positional.empty()) {
    queue_usage(stderr);
    return kExitUsage;
  }
  const std::string sub = positional[0];
  const bool needs_id = sub == "show" || sub == "hold" || sub == "release" || sub == "delete";
  const bool known = needs_id || sub == "list" || sub == "flush";
  if (!known) {
    std::fprintf(stderr, "ferry: queue: unknown command '%s'\n", sub.c_str());
    queue_usage(stderr);
    return kExitUsage;
  }
  if ((needs_id && positional.size() != 2) || (sub == "list" && positional.size() != 1) ||
      (sub == "flush" && positional.size() > 2)) {
    queue_usage(stderr);
    return kExitUsage;
  }
  if (json && sub != "list" && sub != "show") {
    std::fprintf(stderr, "ferry: queue: --json applies to list and show only\n");
    return kExitUsage;
  }

  auto config = load_cli_config(common);
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

  if (sub == "list") {
    std::vector<queue::MessageRecord> messages;
    auto r = q.for_each([&](const queue::MessageRecord& m) { messages.push_back(m); return true; });
    if (!r) return report(r.error(), "list");
    std::fputs((json ? format_list_json(messages) : format_list_text(messages)).c_str(), stdout);
    return kExitOk;
  }

  std::optional<QueueId> id;
  if (positional.size() == 2) {
    id = parse_id(positional[1]);
    if (!id) return kExitFailure;
  }
  auto check = [&](const Result<void>& r) {
    if (r) {
      daemon::wake_daemon(config->queue.path);
      const char* done = sub == "hold" ? "held" : sub == "release" ? "released" : sub == "delete" ? "deleted" : "flushed";
      std::printf("%s: %s\n", id ? id->str().c_str() : "queue", done);
      return kExitOk;
    }
    if (r.error().kind == ErrorKind::NotFound) return not_found(positional[1]);
    return report(r.error(), sub);
  };

  if (sub == "show") {
    auto m = q.load(*id);
    if (!m) return m.error().kind == ErrorKind::NotFound ? not_found(positional[1]) : report(m.error(), "show");
    auto body = q.read_body(*id);
    if (!body) return report(body.error(), "show");
    std::fputs((json ? format_show_json(*m, *body) : format_show_text(*m, *body)).c_str(), stdout);
    return kExitOk;
  }
  if (sub == "hold") return check(q.hold(*id));
  if (sub == "release") return check(q.release(*id, now_ms()));
  if (sub == "delete") return check(q.remove(*id));
  return check(q.flush(id, now_ms()));
}

}  // namespace ferry::cli
