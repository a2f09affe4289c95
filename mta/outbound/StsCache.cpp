// StsCache: see StsCache.hpp.
#include "mta/outbound/StsCache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ferry/text/Ascii.hpp"
#include "mta/delivery/StsShared.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/HttpsClient.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::outbound {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// RFC 8461 §3.2: the media type is text/plain (parameters such as charset allowed).
bool is_text_plain(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  std::string_view t = type;
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return text::iequals(t, "text/plain");
}

std::string txt_note(const net::TxtAnswer& txt, const std::optional<std::string>& id) {
  if (txt.status == net::DnsStatus::TempFail) return "TXT lookup failed: " + txt.error;
  if (id) return "TXT id=" + *id;
  if (txt.status == net::DnsStatus::Ok) return "no valid v=STSv1 TXT record";
  return "no TXT record";
}

}  // namespace

awaitable<StsFetch> fetch_sts_policy(const asio::any_io_executor& executor, net::Resolver& resolver,
                                     asio::ssl::context& tls, const std::string& domain, std::uint16_t port) {
  StsFetch out;
  net::HttpsRequest req;
  req.host = "mta-sts." + domain;
  req.port = port;
  req.target = "/.well-known/mta-sts.txt";
  req.body_limit = delivery::kStsMaxPolicyBytes;
  const net::AddressAnswer addresses = co_await net::resolve_addresses(resolver, executor, req.host);
  if (addresses.status != net::DnsStatus::Ok || addresses.addresses.empty()) {
    out.error = req.host + ": no address (" + net::to_string(addresses.status) + ")";
    co_return out;
  }
  req.addresses = addresses.addresses;
  const net::HttpsResponse res = co_await net::https_request(executor, tls, req);
  if (!res.ok) {
    out.error = "https://" + req.host + req.target + ": " + res.error;
    co_return out;
  }
  // RFC 8461 §3.3: only 200 counts; a redirect is not followed.
  if (res.status != 200) {
    out.error = "https://" + req.host + req.target + ": HTTP status " + std::to_string(res.status);
    co_return out;
  }
  if (!is_text_plain(res.content_type)) {
    out.error = "the policy's Content-Type is \"" + res.content_type + "\", not text/plain";
    co_return out;
  }
  auto parsed = delivery::parse_sts_policy(res.body);
  if (!parsed) {
    out.error = "invalid policy: " + parsed.error();
    co_return out;
  }
  out.ok = true;
  out.text = res.body;
  out.policy = std::move(*parsed);
  co_return out;
}

queue::PolicyCacheRecord to_record(const std::string& domain, const delivery::StsCached& e) {
  return {domain, e.id, e.policy_text, e.fetched_ms, e.expires_ms, e.next_refresh_ms, e.failures};
}

delivery::StsCached from_record(const queue::PolicyCacheRecord& r) {
  return {r.id, r.policy_text, r.fetched_ms, r.expires_ms, r.next_refresh_ms, r.failures};
}

StsCache::StsCache(asio::any_io_executor executor, std::shared_ptr<net::Resolver> resolver,
                   queue::QueueStore* store, Persist persist, config::MtaStsSection config,
                   std::shared_ptr<SharedStsStore> shared)
    : executor_(executor),
      resolver_(std::move(resolver)),
      store_(store),
      persist_(std::move(persist)),
      config_(std::move(config)),
      shared_(std::move(shared)),
      engine_(std::make_shared<std::mt19937_64>(std::random_device{}())),
      rand_([e = engine_] { return (*e)(); }),
      timer_(executor) {}

void StsCache::reconfigure(config::MtaStsSection config) {
  if (config.ca_file != config_.ca_file) tls_.reset();  // the CA file is read again
  config_ = std::move(config);
}

void StsCache::stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::ssl::context* StsCache::tls() {
  if (!tls_) {
    auto ctx = net::make_client_tls_context(true, config_.ca_file);
    if (!ctx) {
      ops::log_error("mta-sts: " + ctx.error().message);
      return nullptr;
    }
    tls_ = *ctx;
  }
  return tls_.get();
}

// Memory first, else the queue's table (another process may have written it: `ferry sts`).
std::optional<delivery::StsCached> StsCache::cached(const std::string& domain) {
  if (auto it = memory_.find(domain); it != memory_.end()) return it->second;
  if (!store_) return std::nullopt;
  auto r = store_->policy_get(domain);
  if (!r || !*r) return std::nullopt;
  return memory_[domain] = from_record(**r);
}

void StsCache::store(const std::string& domain, const delivery::StsCached& entry) {
  memory_[domain] = entry;
  if (persist_) persist_(to_record(domain, entry));
}

awaitable<StsOutcome> StsCache::policy_for(const std::string& domain) {
  StsOutcome out = co_await lookup(domain, Lookup::Delivery);
  co_return out;
}

awaitable<StsOutcome> StsCache::refresh(const std::string& domain) {
  memory_.erase(domain);  // read the table again: another process may have changed it
  StsOutcome out = co_await lookup(domain, Lookup::Force);
  co_return out;
}

// RFC 8461 §3.3 and §5.1: the TXT record's id says whether the cached policy is current; a new
// id (or nothing cached) means a fetch — unless another node fetched that policy already; a
// failed fetch leaves the cached policy in force.
awaitable<StsOutcome> StsCache::lookup(const std::string& domain, Lookup why) {
  const bool force = why != Lookup::Delivery;
  StsOutcome out;
  const std::string name = "_mta-sts." + domain;
  const net::TxtAnswer txt = co_await net::resolve_txt(*resolver_, executor_, name);
  const std::optional<std::string> id =
      txt.status == net::DnsStatus::Ok ? delivery::parse_sts_record(txt.records) : std::nullopt;
  out.txt_id = id.value_or("");
  out.txt_note = txt_note(txt, id);
  std::optional<delivery::StsCached> entry = cached(domain);
  const bool absent = txt.status != net::DnsStatus::TempFail && !id;
  delivery::StsAction action = delivery::sts_decide(entry, id, absent, now_ms());
  if (force && id) action = delivery::StsAction::Fetch;
  bool adopted = false;
  if (action == delivery::StsAction::Fetch && id && shared_ && why != Lookup::Force)
    adopted = co_await adopt_shared(domain, why == Lookup::Refresh, out, entry);
  if (action == delivery::StsAction::Fetch) {
    if (!adopted) co_await fetch_into(domain, out, entry);
  } else if (force && entry) {
    // A refresh without a record to go by (removed, or the lookup failed): the cached policy
    // stays until it expires (RFC 8461 §5.1) and the next refresh backs off like a failed fetch.
    entry = delivery::sts_after_failure(std::move(*entry), now_ms(), rand_);
    store(domain, *entry);
  }
  out.source = out.source.empty() && entry ? "cached" : out.source;
  if (entry && delivery::sts_valid(*entry, now_ms())) {
    auto parsed = delivery::parse_sts_policy(entry->policy_text);
    if (parsed && parsed->mode != delivery::StsMode::None) out.policy = std::move(*parsed);
    if (!parsed) out.problem = "cached policy unreadable: " + parsed.error();
  }
  if (!out.policy && out.source != "fetched" && out.source != "shared")
    out.source = "none";  // nothing valid applies
  if (entry) out.cached = to_record(domain, *entry);
  co_return out;
}

// One fetch: success replaces the entry; failure keeps it (backing off its next refresh).
awaitable<void> StsCache::fetch_into(const std::string& domain, StsOutcome& out,
                                     std::optional<delivery::StsCached>& entry) {
  asio::ssl::context* ctx = tls();
  StsFetch fetched;
  if (ctx)
    fetched = co_await fetch_sts_policy(executor_, *resolver_, *ctx, domain, config_.https_port);
  else
    fetched.error = "the CA file cannot be loaded";
  const TimeMs now = now_ms();
  if (fetched.ok) {
    entry = delivery::sts_after_fetch(out.txt_id, fetched.text, fetched.policy, now, rand_);
    store(domain, *entry);
    publish(domain, *entry);
    out.source = "fetched";
    ops::log_info("mta-sts: " + domain + ": policy id " + out.txt_id + " fetched, mode " +
                  delivery::to_string(fetched.policy.mode) + ", max_age " +
                  std::to_string(fetched.policy.max_age));
    co_return;
  }
  out.problem = fetched.error;
  ops::log_warning("mta-sts: " + domain + ": policy fetch failed: " + fetched.error +
                   (entry ? "; the cached policy stays in force" : ""));
  if (entry) {
    entry = delivery::sts_after_failure(std::move(*entry), now, rand_);
    store(domain, *entry);
  }
}

awaitable<void> StsCache::refresh_loop() {
  while (!stopping_) {
    timer_.expires_after(std::chrono::minutes(1));
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_ || !store_ || !config_.enabled) continue;
    auto all = store_->policy_list();
    if (!all) continue;
    const TimeMs now = now_ms();
    for (const auto& r : *all) {
      if (stopping_) break;
      memory_[r.domain] = from_record(r);
      if (r.next_refresh_ms > now) continue;
      memory_.erase(r.domain);  // read the table again: `ferry sts` may have changed it
      StsOutcome ignored = co_await lookup(r.domain, Lookup::Refresh);
      (void)ignored;
    }
  }
}

}  // namespace ferry::outbound

namespace ferry::outbound {

// The policy another node published for the TXT id published now, used as if fetched here (and
// kept in the local table). A value that is not one is another node's word gone wrong: refused,
// logged, and the policy fetched as usual. While refreshing, only a policy refreshed since ours
// and not itself due for a refresh is taken; otherwise this node fetches (and publishes).
awaitable<bool> StsCache::adopt_shared(const std::string& domain, bool refreshing, StsOutcome& out,
                                       std::optional<delivery::StsCached>& entry) {
  const std::optional<std::string> value = co_await shared_->get(domain);
  if (!value) co_return false;
  auto decoded = delivery::decode_sts_shared(*value);
  if (!decoded) {
    ops::log_warning("mta-sts: " + domain + ": the shared cache's policy is refused (" + decoded.error() +
                     "); fetching it");
    co_return false;
  }
  const TimeMs now = now_ms();
  std::optional<delivery::StsCached> adopted = delivery::sts_adopt_shared(*decoded, out.txt_id, now, rand_);
  // Published under an older id, expired, or nothing newer than ours.
  if (!adopted || !delivery::sts_shared_replaces(entry, *adopted, refreshing, now)) co_return false;
  entry = std::move(adopted);
  store(domain, *entry);
  out.source = "shared";
  ops::log_info("mta-sts: " + domain + ": policy id " + out.txt_id + " from the shared cache (fetched by " +
                decoded->shared.node + "), mode " + delivery::to_string(decoded->policy.mode) + ", max_age " +
                std::to_string(decoded->policy.max_age));
  co_return true;
}

// After a fetch of our own: the other nodes may use it for what is left of its max_age.
void StsCache::publish(const std::string& domain, const delivery::StsCached& entry) {
  if (!shared_) return;
  const auto ttl = delivery::sts_shared_ttl(entry, now_ms());
  if (ttl.count() <= 0) return;
  shared_->put(
      domain,
      delivery::encode_sts_shared({entry.id, entry.fetched_ms, shared_->node_name(), entry.policy_text}),
      ttl);
}

}  // namespace ferry::outbound
