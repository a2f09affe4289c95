// StsCommand: `ferry sts show|refresh|forget DOMAIN`: the MTA-STS policy cache in the queue's
// sts table. show reads it; refresh fetches the policy now (the command does the TXT lookup and
// HTTPS fetch itself, with the configuration's DNS servers and trust, so it works whether or not
// the daemon runs) and stores it; forget removes it. The daemon is woken to read the table again.
// With [cluster], refresh shares what it fetched and forget removes the shared copy too, so a
// policy purged on one node does not come back from the others.
#include <cstdio>
#include <string>

#include "ferry/JsonWriter.hpp"
#include "ferry/text/Ascii.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/FleetShare.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/delivery/StsPolicy.hpp"
#include "mta/delivery/StsShared.hpp"
#include "mta/ops/PidFile.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/outbound/StsAdmin.hpp"

namespace ferry::cli {
namespace {

void sts_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry sts [--config FILE] [--json] show|refresh|forget DOMAIN\n"
      "  show DOMAIN     the cached MTA-STS policy (RFC 8461) of DOMAIN\n"
      "  refresh DOMAIN  look up _mta-sts.DOMAIN and fetch the policy now, then show it\n"
      "  forget DOMAIN   remove the cached policy (the next delivery looks it up again);\n"
      "                  with [cluster], the policy shared with the other nodes too\n",
      out);
}

std::string safe(const std::string& s) { return text::safe_text(s); }

void print_text(const queue::PolicyCacheRecord& r) {
  auto policy = delivery::parse_sts_policy(r.policy_text);
  std::printf("domain: %s\nid: %s\n", safe(r.domain).c_str(), safe(r.id).c_str());
  if (policy) {
    std::printf("mode: %s\nmax_age: %llu\n", delivery::to_string(policy->mode),
                static_cast<unsigned long long>(policy->max_age));
    for (const auto& mx : policy->mx) std::printf("mx: %s\n", safe(mx).c_str());
  } else {
    std::printf("policy: unreadable (%s)\n", safe(policy.error()).c_str());
  }
  std::printf("fetched: %s\nexpires: %s\nnext_refresh: %s\nfailures: %u\n", format_time(r.fetched_ms).c_str(),
              format_time(r.expires_ms).c_str(), format_time(r.next_refresh_ms).c_str(), r.failures);
}

void print_json(const queue::PolicyCacheRecord& r) {
  auto policy = delivery::parse_sts_policy(r.policy_text);
  JsonWriter j;
  j.begin_object();
  j.key("domain").value(r.domain);
  j.key("id").value(r.id);
  j.key("mode").value(policy ? delivery::to_string(policy->mode) : "unreadable");
  j.key("max_age").value(static_cast<std::uint64_t>(policy ? policy->max_age : 0));
  j.key("mx").begin_array();
  if (policy)
    for (const auto& mx : policy->mx) j.value(mx);
  j.end_array();
  j.key("fetched").value(format_time(r.fetched_ms));
  j.key("expires").value(format_time(r.expires_ms));
  j.key("next_refresh").value(format_time(r.next_refresh_ms));
  j.key("failures").value(static_cast<std::uint64_t>(r.failures));
  j.key("policy").value(r.policy_text);
  j.end_object();
  std::printf("%s\n", j.str().c_str());
}

int show(queue::QueueStore& q, const std::string& domain, bool json) {
  auto r = q.policy_get(domain);
  if (!r) {
    std::fprintf(stderr, "ferry: sts: %s\n", r.error().message.c_str());
    return kExitTempFail;
  }
  if (!*r) {
    std::fprintf(stderr, "ferry: sts: no cached policy for %s\n", safe(domain).c_str());
    return kExitFailure;
  }
  json ? print_json(**r) : print_text(**r);
  return kExitOk;
}

// A policy fetched here serves the fleet for what is left of its max_age, as one the daemon fetched.
void share_policy(const FleetShare& fleet, const queue::PolicyCacheRecord& r) {
  const auto key = delivery::sts_shared_key(r.domain);
  const delivery::StsCached entry = {r.id,         r.policy_text,     r.fetched_ms,
                                     r.expires_ms, r.next_refresh_ms, r.failures};
  const auto ttl = delivery::sts_shared_ttl(entry, now_ms());
  if (!key || ttl.count() <= 0) return;
  const std::string value = delivery::encode_sts_shared({r.id, r.fetched_ms, fleet.node_name, r.policy_text});
  (void)share_with_fleet(fleet, {"SET", *key, value, "PX", std::to_string(ttl.count())}, "sts");
}

// The shared copy goes too; true when there was one.
bool forget_shared(const FleetShare& fleet, const std::string& domain) {
  const auto key = delivery::sts_shared_key(domain);
  if (!key) return false;
  const auto r = share_with_fleet(fleet, {"DEL", *key}, "sts");
  return r && r->type == cluster::ReplyType::Integer && r->integer > 0;
}

int refresh(queue::QueueStore& q, const config::Config& config, const std::string& domain, bool json,
            const std::optional<FleetShare>& fleet) {
  const outbound::StsRefreshReport rep = outbound::sts_refresh_now(config, q, domain);
  ops::wake_daemon(config.queue.path);
  if (fleet && rep.source == "fetched" && rep.cached) share_policy(*fleet, *rep.cached);
  std::fprintf(json ? stderr : stdout, "%s: %s; %s%s%s\n", safe(domain).c_str(), safe(rep.txt_note).c_str(),
               rep.source.c_str(), rep.problem.empty() ? "" : ": ", safe(rep.problem).c_str());
  if (!rep.cached) return rep.problem.empty() ? kExitOk : kExitTempFail;
  json ? print_json(*rep.cached) : print_text(*rep.cached);
  return rep.source == "fetched" ? kExitOk : kExitTempFail;
}

int forget(queue::QueueStore& q, const config::Config& config, const std::string& domain,
           const std::optional<FleetShare>& fleet) {
  auto r = q.policy_erase(domain);
  if (!r) {
    std::fprintf(stderr, "ferry: sts: %s\n", r.error().message.c_str());
    return kExitTempFail;
  }
  ops::wake_daemon(config.queue.path);
  if (fleet && forget_shared(*fleet, domain))
    std::printf("%s: shared policy forgotten\n", safe(domain).c_str());
  if (!*r) {
    std::fprintf(stderr, "ferry: sts: no cached policy for %s\n", safe(domain).c_str());
    return kExitFailure;
  }
  std::printf("%s: cached policy forgotten\n", safe(domain).c_str());
  return kExitOk;
}

}  // namespace

int cmd_sts(const Args& raw) {
  CommonOptions common;
  Args args, positional;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "-h" || a == "--help") {
      sts_usage(stdout);
      return kExitOk;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "ferry: sts: unknown option '%s'\n", a.c_str());
      return kExitUsage;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2 ||
      (positional[0] != "show" && positional[0] != "refresh" && positional[0] != "forget")) {
    sts_usage(stderr);
    return kExitUsage;
  }
  std::string domain = text::to_lower(positional[1]);
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  // With [cluster], refresh and forget reach the fleet too: the password is read with the rights
  // the command was started with, before switching to the queue's owner.
  std::optional<FleetShare> fleet;
  if (positional[0] != "show") {
    auto f = fleet_share(*config);
    if (!f) {
      std::fprintf(stderr, "ferry: sts: [cluster] %s\n", f.error().message.c_str());
      return kExitConfig;
    }
    fleet = std::move(*f);
  }
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: sts: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  auto store = queue::QueueStore::open(queue_options(*config));
  if (!store) {
    std::fprintf(stderr, "ferry: sts: cannot open the queue: %s\n", store.error().message.c_str());
    return kExitTempFail;
  }
  if (positional[0] == "show") return show(**store, domain, json);
  if (positional[0] == "refresh") return refresh(**store, *config, domain, json, fleet);
  return forget(**store, *config, domain, fleet);
}

}  // namespace ferry::cli
