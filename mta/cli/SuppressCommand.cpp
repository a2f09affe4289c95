// SuppressCommand: `ferry suppress list|show|add|remove`: the suppression list in the queue's
// suppression table, read and changed with the queue owner's rights whether or not the daemon
// runs (the daemon reads the table at each lookup, so a change applies to the next RCPT or
// attempt without waking it).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "ferry/JsonWriter.hpp"
#include "ferry/Suppression.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/FleetShare.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/cluster/SuppressionStream.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::cli {
namespace {

void suppress_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry suppress [--config FILE] [--json] list|show ADDRESS|add ADDRESS [--reason TEXT]|remove "
      "ADDRESS\n"
      "  list             every suppressed address, with when it was recorded and when it expires\n"
      "  show ADDRESS     one entry (exit 1 when the address is not listed)\n"
      "  add ADDRESS      suppress ADDRESS by hand (source manual) for [suppression] ttl\n"
      "  remove ADDRESS   take ADDRESS off the list: mail to it is accepted and attempted again\n",
      out);
}

std::string safe(const std::string& s) { return text::safe_text(s); }

struct View {
  TimeMs ttl = 0;
  TimeMs now = 0;
};

void entry_json(JsonWriter& j, const SuppressionEntry& e, const View& v) {
  j.begin_object();
  j.key("address").value(e.address);
  j.key("category").value(e.category);
  j.key("status").value(e.status);
  j.key("reply").value(e.reply);
  j.key("time").value(format_time(e.time_ms));
  j.key("expires").value(format_time(e.time_ms + v.ttl));
  j.key("expired").value(e.expired(v.now, v.ttl));
  j.key("queue_id").value(e.queue_id.value ? e.queue_id.str() : std::string());
  j.key("source").value(to_string(e.source));
  j.end_object();
}

void entry_text(const SuppressionEntry& e, const View& v) {
  std::printf("%s  %s  %s  %s%s  %s  %s  %s\n", safe(e.address).c_str(), safe(e.category).c_str(),
              format_time(e.time_ms).c_str(), format_time(e.time_ms + v.ttl).c_str(),
              e.expired(v.now, v.ttl) ? " (expired)" : "", to_string(e.source),
              e.queue_id.value ? e.queue_id.str().c_str() : "-", safe(e.reply).c_str());
}

int list(queue::QueueStore& q, const View& v, bool json) {
  auto all = q.suppression_list();
  if (!all) {
    std::fprintf(stderr, "ferry: suppress: %s\n", all.error().message.c_str());
    return kExitTempFail;
  }
  if (json) {
    JsonWriter j;
    j.begin_array();
    for (const auto& e : *all) entry_json(j, e, v);
    j.end_array();
    std::printf("%s\n", j.str().c_str());
  } else {
    if (all->empty()) std::puts("suppression list is empty");
    for (const auto& e : *all) entry_text(e, v);
  }
  return kExitOk;
}

int show(queue::QueueStore& q, const std::string& address, const View& v, bool json) {
  auto e = q.suppression_get(address);
  if (!e) {
    std::fprintf(stderr, "ferry: suppress: %s\n", e.error().message.c_str());
    return kExitTempFail;
  }
  if (!*e) {
    std::fprintf(stderr, "ferry: suppress: %s is not suppressed\n", safe(address).c_str());
    return kExitFailure;
  }
  if (json) {
    JsonWriter j;
    entry_json(j, **e, v);
    std::printf("%s\n", j.str().c_str());
  } else {
    entry_text(**e, v);
  }
  return kExitOk;
}

int add(queue::QueueStore& q, const std::string& address, const std::string& reason, const View& v) {
  SuppressionEntry e;
  e.address = suppression_key(address);
  e.category = "manual";
  e.reply = suppression_reply_text(reason);
  e.time_ms = v.now;
  e.source = SuppressionSource::Manual;
  if (auto r = q.suppression_put(e); !r) {
    std::fprintf(stderr, "ferry: suppress: %s\n", r.error().message.c_str());
    return kExitTempFail;
  }
  std::printf("%s: suppressed until %s\n", safe(e.address).c_str(), format_time(e.time_ms + v.ttl).c_str());
  return kExitOk;
}

int remove(queue::QueueStore& q, const std::string& address) {
  auto r = q.suppression_erase(address);
  if (!r) {
    std::fprintf(stderr, "ferry: suppress: %s\n", r.error().message.c_str());
    return kExitTempFail;
  }
  if (!*r) {
    std::fprintf(stderr, "ferry: suppress: %s is not suppressed\n", safe(address).c_str());
    return kExitFailure;
  }
  std::printf("%s: removed from the suppression list\n", safe(suppression_key(address)).c_str());
  return kExitOk;
}

// An address as typed by the operator: local@domain, one line, at most a path's length.
bool valid_address(const std::string& a) {
  const auto at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.size() || a.size() > kMaxSuppressionAddress)
    return false;
  for (unsigned char c : a)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>') return false;
  return true;
}

// The local change is made; the other nodes hear of it through the shared stream. Redis being
// unreachable is a warning: the local list is the one RCPT reads.
void publish(const FleetShare& fleet, bool adding, const std::string& address, const std::string& reason,
             const View& v) {
  cluster::SuppressionEvent ev;
  ev.node = fleet.node_name;
  ev.removed = !adding;
  ev.entry.address = suppression_key(address);
  ev.entry.category = "manual";
  ev.entry.reply = suppression_reply_text(reason);
  ev.entry.time_ms = v.now;
  ev.entry.source = SuppressionSource::Manual;
  (void)share_with_fleet(fleet, cluster::encode_suppression_event(ev), "suppress");
}

}  // namespace

int cmd_suppress(const Args& raw) {
  CommonOptions common;
  Args args, positional;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  bool json = false;
  std::string reason;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--reason" && i + 1 < args.size()) {
      reason = args[++i];
    } else if (a == "-h" || a == "--help") {
      suppress_usage(stdout);
      return kExitOk;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "ferry: suppress: unknown option '%s'\n", a.c_str());
      return kExitUsage;
    } else {
      positional.push_back(a);
    }
  }
  const bool is_list = positional.size() == 1 && positional[0] == "list";
  const bool one = positional.size() == 2 &&
                   (positional[0] == "show" || positional[0] == "add" || positional[0] == "remove");
  if (!is_list && !one) {
    suppress_usage(stderr);
    return kExitUsage;
  }
  if (one && !valid_address(positional[1])) {
    std::fprintf(stderr, "ferry: suppress: '%s' is not an address (local@domain)\n",
                 safe(positional[1]).c_str());
    return kExitUsage;
  }
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  // With [cluster], add and remove are published to the other nodes too: the password is read
  // with the rights the command was started with, before switching to the queue's owner.
  std::optional<FleetShare> fleet;
  if (one && positional[0] != "show") {
    auto f = fleet_share(*config);
    if (!f) {
      std::fprintf(stderr, "ferry: suppress: [cluster] %s\n", f.error().message.c_str());
      return kExitConfig;
    }
    fleet = std::move(*f);
  }
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: suppress: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  auto store = queue::QueueStore::open(queue_options(*config));
  if (!store) {
    std::fprintf(stderr, "ferry: suppress: cannot open the queue: %s\n", store.error().message.c_str());
    return kExitTempFail;
  }
  const View view{config->suppression.ttl.count(), now_ms()};
  if (is_list) return list(**store, view, json);
  if (positional[0] == "show") return show(**store, positional[1], view, json);
  const bool adding = positional[0] == "add";
  const int rc = adding ? add(**store, positional[1], reason, view) : remove(**store, positional[1]);
  if (rc == kExitOk && fleet) publish(*fleet, adding, positional[1], reason, view);
  return rc;
}

}  // namespace ferry::cli
