// DeliveryAgent: see DeliveryAgent.hpp. Everything runs on the daemon's one I/O thread; queue
// writes go through the CommitBatcher and their results are posted back. The in-memory
// Scheduler is a cache of the queue's due index: it is rebuilt at start-up and re-synced every
// second, which is also how `ferry queue flush/hold/delete` from another process take effect.
#include "mta/outbound/DeliveryAgent.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "ferry/text/Ascii.hpp"
#include "mta/delivery/AddressLookups.hpp"
#include "mta/delivery/AttemptText.hpp"
#include "mta/delivery/LocalPaceLimiter.hpp"
#include "mta/delivery/MxPlan.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/delivery/ReplyClassifier.hpp"
#include "mta/delivery/RequireTls.hpp"
#include "mta/delivery/RetrySchedule.hpp"
#include "mta/delivery/RoutePlan.hpp"
#include "mta/delivery/Scheduler.hpp"
#include "mta/delivery/SettlePlan.hpp"
#include "mta/delivery/SuppressedAttempt.hpp"
#include "mta/delivery/TlsPolicyKind.hpp"
#include "mta/delivery/UnreachableHosts.hpp"
#include "mta/dsn/DsnComposer.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/InterfaceAddresses.hpp"
#include "mta/net/SmtpStream.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/outbound/DaneGate.hpp"
#include "mta/outbound/DnsPlan.hpp"
#include "mta/outbound/DueWindowSync.hpp"
#include "mta/outbound/Pacer.hpp"
#include "mta/outbound/SevenBitConversion.hpp"
#include "mta/outbound/StsCache.hpp"
#include "mta/outbound/StsGate.hpp"
#include "mta/outbound/TlsOutcomes.hpp"
#include "mta/smtp/ClientSession.hpp"
#include "queue/IdAllocator.hpp"

namespace ferry::outbound {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(use_awaitable);
// The TLS text of an attempt that DANE stopped before any TLS was up.
constexpr const char* kDaneNoTls = "none, tls_policy=dane";
using Key = std::pair<QueueId, std::uint32_t>;
// How many due entries the scheduler reads from the queue at a time (its memory holds at most
// four times this): a million queued recipients cost neither start-up time nor memory.
constexpr std::size_t kDueWindow = 20000;
// A change by another process arrives as SIGUSR1; this bounded re-read catches a lost signal.
constexpr std::chrono::milliseconds kSafetyReload{30'000};
// Messages the expiry sweep settles at most per turn (the next turn takes the rest).
constexpr std::size_t kSweepBatch = 1000;
// A lease that could not be committed (a full disk or map) is tried again after this.
constexpr TimeMs kLeaseRetryMs = 1000;

smtp::ClientTlsPolicy map_client_tls(delivery::TlsPolicy t) {
  switch (t) {
    case delivery::TlsPolicy::None:
      return smtp::ClientTlsPolicy::None;
    case delivery::TlsPolicy::Required:
      return smtp::ClientTlsPolicy::Required;
    case delivery::TlsPolicy::Verify:
      return smtp::ClientTlsPolicy::Verify;
    default:
      return smtp::ClientTlsPolicy::Opportunistic;
  }
}

// Slow-start feedback: a session that failed because the connection was lost, reset or timed out
// (4.4.2), or because the server said 421 (often "too many connections"), asks for fewer
// connections; a refusal of the message or of the TLS policy says nothing about concurrency.
bool is_connection_trouble(const std::vector<smtp::RecipientResult>& results) {
  if (results.empty()) return false;
  const Attempt& a = results.front().attempt;
  return a.code == 421 || a.status == "4.4.2";
}

// The queue's record as the settle policy sees it.
delivery::SettleMessage settle_message(const queue::MessageRecord& m) {
  delivery::SettleMessage view;
  view.queue_id = m.id;
  view.envelope = &m.envelope;
  view.delay_warning_sent_ms = m.delay_warning_sent_ms;
  view.recipients.reserve(m.recipients.size());
  for (const auto& r : m.recipients) view.recipients.push_back({r.attempts, r.last});
  return view;
}

dsn::ReportKind dsn_kind(delivery::ReportKind kind) {
  switch (kind) {
    case delivery::ReportKind::Delay:
      return dsn::ReportKind::Delay;
    case delivery::ReportKind::Success:
      return dsn::ReportKind::Success;
    default:
      return dsn::ReportKind::Failure;
  }
}

// The composer's rows, with the reply's classification (bounces carry the category).
std::vector<dsn::RecipientReport> report_rows(const delivery::ReportPlan& report) {
  std::vector<dsn::RecipientReport> rows;
  for (const auto& r : report.rows) {
    dsn::RecipientReport row(r.index, r.attempt, r.last_transient, r.relayed);
    row.category = std::string(r.category.category);
    row.category_detail = std::string(r.category.detail);
    row.category_advice = std::string(r.category.advice);
    rows.push_back(std::move(row));
  }
  return rows;
}

// The MX host names of an answer in preference order, lower-cased, for [[pace]] mx rules.
std::vector<std::string> pace_mx_hosts(const net::MxAnswer& mx) {
  std::vector<std::pair<std::uint16_t, std::string>> records;
  for (const auto& r : mx.records)
    if (!r.host.empty()) records.emplace_back(r.preference, ferry::text::to_lower(r.host));
  std::stable_sort(records.begin(), records.end());
  std::vector<std::string> hosts;
  for (auto& [pref, host] : records) hosts.push_back(std::move(host));
  return hosts;
}

}  // namespace

struct DeliveryAgent::Impl : std::enable_shared_from_this<DeliveryAgent::Impl> {
  // A message being delivered on one connection: its record, body and the leased recipients.
  struct Job {
    queue::MessageRecord message;
    std::shared_ptr<const std::string> body;
    std::vector<std::uint32_t> recipients;
    // Recipients not settled yet, with their last attempt on this delivery (none before one is made).
    std::map<std::uint32_t, std::optional<Attempt>> unresolved;
    // The reused connection it was sent on had been closed by the remote before this message got
    // anywhere: not a delivery failure, so it goes again at once on a new connection.
    bool retry_fresh = false;
    // The server's MAILMAX (RFC 9422) ended the connection before these recipients' turn.
    bool limit_reached = false;
    // Pacing: when this delivery was let go (a rate-limit reply to it speaks of the rate then).
    TimeMs started_ms = 0;
  };
  // A connection waiting (idle) for another message to the same destination.
  struct IdleConnection {
    asio::steady_timer timer;
    std::optional<delivery::Batch> handoff;
    explicit IdleConnection(asio::io_context& io) : timer(io) {}
  };

  asio::io_context& io;
  DeliveryDeps deps;
  const config::Config* cfg;  // swapped by reconfigure (SIGHUP); the daemon keeps every one alive
  delivery::Scheduler scheduler;
  delivery::RetrySchedule retry;
  std::vector<delivery::RouteRule> routes;
  delivery::RouteDefaults defaults;
  std::vector<delivery::Listener> own_listeners;
  // This host's interface addresses: behind a wildcard listener each of them is ourselves, so an
  // MX or route pointing at one is a mail loop (5.4.6) at the first hop. Re-read on SIGHUP.
  std::vector<std::string> local_addresses = net::interface_addresses();
  std::mt19937_64 rng{std::random_device{}()};
  delivery::RandomSource rand{[this] { return rng(); }};
  std::set<Key> in_flight;
  // The scheduler's entries: a bounded window of the queue's due index (kDueWindow entries read
  // at a time) plus what this process queues and reschedules itself.
  std::unique_ptr<DueWindowSync> due_window;
  // "ip:port" whose STARTTLS handshake failed under opportunistic TLS: sent plaintext without
  // trying TLS until [delivery] tls_fallback_memory has passed (at most), so a broken server does
  // not cost every message a failed handshake, yet a repaired one gets TLS again. A flush forgets.
  delivery::UnreachableHosts tls_fallback;
  // "ip:port" that refused or did not answer a connect (RFC 5321 §4.5.4.1 SHOULD remember): other
  // messages skip it until [retry] first (at most an hour) has passed, so one dead MX does not
  // cost every queued message a connect timeout. Cleared by `ferry queue flush` & co (SIGUSR1).
  delivery::UnreachableHosts unreachable;
  std::map<std::string, std::deque<IdleConnection*>> idle;
  std::shared_ptr<asio::ssl::context> tls_plain;
  std::shared_ptr<asio::ssl::context> tls_dane;  // DANE-enabled, for MX hosts with TLSA records
  std::map<std::string, std::shared_ptr<asio::ssl::context>> tls_verify;  // by [[route]] tls_ca_file
  std::shared_ptr<asio::ssl::context> tls_sts_testing;  // sts_testing_context(), made on first use
  asio::steady_timer wake;
  asio::steady_timer sweep_timer;
  bool poked = false;
  bool stopping = false;
  std::size_t active = 0;
  std::function<void()> on_stopped;
  bool reload_wanted = false;  // another process changed the queue (SIGUSR1)
  TimeMs last_reload = 0;
  TimeMs last_purge = 0;
  DeliveryStats stats;
  std::unique_ptr<StsCache> sts;  // MTA-STS policies (RFC 8461), cached in the queue's sts table
  // [[pace]]: tokens, connection slots and back-off per destination; the scheduler's start gate.
  std::unique_ptr<Pacer> pacer = make_pacer();
  std::map<std::string, std::size_t> pace_idle_grants;  // see pace_gate()

  Impl(asio::io_context& io_, DeliveryDeps d)
      : io(io_), deps(std::move(d)), cfg(deps.config), wake(io_), sweep_timer(io_) {
    scheduler.set_start_gate(
        [this](const std::string& dest, TimeMs now, bool reuse) { return pace_gate(dest, now, reuse); });
    apply(deps.config, std::move(deps.routes));
    for (const auto& [ip, port] : deps.own_listeners) own_listeners.push_back({ip, port});
    tls_plain = *net::make_client_tls_context(false);
    if (auto dane = net::make_client_dane_context(); dane) tls_dane = *dane;
    if (deps.resolver && deps.store) sts = make_sts_cache();
    if (deps.store)
      due_window = std::make_unique<DueWindowSync>(
          *deps.store, scheduler, in_flight, [this](std::string_view a) { return destination_for(a); },
          kDueWindow);
  }

  // The policy cache writes through the CommitBatcher (the queue writer thread), like every
  // other write of the daemon; a failed write costs a fetch later, and is logged.
  std::unique_ptr<StsCache> make_sts_cache() {
    queue::CommitBatcher* batcher = deps.batcher;
    StsCache::Persist persist = [batcher](const queue::PolicyCacheRecord& r) {
      if (!batcher) return;
      batcher->submit(
          [r](queue::WriteTxn& t) { return t.policy_put(r); },
          [domain = r.domain](Result<void> done) {
            if (!done)
              ops::log_error("mta-sts: " + domain + ": cannot cache the policy: " + done.error().message);
          });
    };
    return std::make_unique<StsCache>(io.get_executor(), deps.resolver, deps.store, std::move(persist),
                                      deps.config->mta_sts, deps.shared_sts);
  }

  // ---- pacing ([[pace]]): the pure decisions live in mta/delivery, the glue in Pacer ----
  // The one place the limiter is chosen: the fleet's (through Redis) when the daemon gives one.
  std::unique_ptr<Pacer> make_pacer() {
    if (deps.pace_limiter)
      return std::make_unique<Pacer>(deps.pace_limiter([this] {
        scheduler.clear_holds();
        poke();
      }));
    return std::make_unique<Pacer>(std::make_unique<delivery::LocalPaceLimiter>());
  }

  // The scheduler's start gate. A batch an idle connection to the destination will take needs a
  // token but no connection slot: a destination at its [[pace]] connections limit keeps its
  // connections busy instead of waiting for one of them to time out idle.
  std::optional<TimeMs> pace_gate(const std::string& dest, TimeMs now, bool reuse) {
    auto it = idle.find(dest);
    const auto granted = pace_idle_grants.find(dest);
    const std::size_t taken = granted == pace_idle_grants.end() ? 0 : granted->second;
    const bool idle_waiting = !reuse && it != idle.end() && it->second.size() > taken;
    auto verdict = pacer->admit(dest, now, reuse || idle_waiting);
    if (!verdict && idle_waiting) ++pace_idle_grants[dest];
    return verdict;
  }

  // A batch from take_ready: was it admitted as the reuse of an idle connection (no slot)?
  bool take_idle_grant(const std::string& dest) {
    auto it = pace_idle_grants.find(dest);
    if (it == pace_idle_grants.end()) return false;
    if (--it->second == 0) pace_idle_grants.erase(it);
    return true;
  }

  // Reply feedback: a rate_limited reply slows the destination down (once per settle: one
  // connection's transaction is one signal). Greylisting is not a reason to slow down.
  void pace_feedback(const Job& job, const delivery::RecipientAttempts& results, std::string_view dest) {
    if (dest.empty()) return;
    for (const auto& [idx, a] : results) {
      // Only a refusal can say "slow down" (the classifier is not run on every 250).
      if (!a || a->code == 0 || a->outcome == AttemptOutcome::Delivered) continue;
      if (delivery::classify_reply_category(*a).category != delivery::category::rate_limited) continue;
      pacer->rate_limited(std::string(dest), job.started_ms, now_ms());
      return;
    }
  }

  // The verifying context for a route's CA file ("" = the system store), made on first use.
  // nullptr when it cannot be loaded (the file changed since the configuration was checked).
  std::shared_ptr<asio::ssl::context> verify_context(const std::string& ca_file) {
    auto it = tls_verify.find(ca_file);
    if (it != tls_verify.end()) return it->second;
    auto ctx = net::make_client_tls_context(true, ca_file);
    if (!ctx) {
      ops::log_error("delivery: " + ctx.error().message);
      return nullptr;
    }
    return tls_verify[ca_file] = *ctx;
  }

  // The configuration-derived state: retry policy, routes, delivery port, connection limits.
  // Runs on the I/O thread; attempts in progress finish with the values they started with
  // where they already read them and see the new ones from their next step on.
  void apply(const config::Config* config, std::vector<delivery::RouteRule> new_routes) {
    cfg = config;
    scheduler.set_limits({cfg->delivery.max_connections, cfg->delivery.max_per_destination,
                          cfg->delivery.initial_per_destination});
    delivery::RetryPolicy policy;
    policy.first_ms = cfg->retry.first.count();
    policy.multiplier = cfg->retry.multiplier;
    policy.max_interval_ms = cfg->retry.max_interval.count();
    policy.jitter = cfg->retry.jitter;
    policy.max_age_ms = cfg->retry.max_age.count();
    policy.greylist_ms = cfg->retry.after_greylist.count();
    retry = delivery::RetrySchedule(policy);
    pacer->configure(*cfg);
    defaults.port = cfg->delivery.port;
    routes = std::move(new_routes);
    tls_verify.clear();  // CA files are read again (a SIGHUP after renewing a private CA)
    tls_sts_testing.reset();
    if (sts) sts->reconfigure(cfg->mta_sts);
  }

  // ---- queue writes through the group-commit thread, awaited on the I/O thread ----
  // These are plain functions returning the awaitable (not coroutines themselves): GCC 12
  // mishandles by-value coroutine parameters moved into lambda captures (double free).
  auto commit(queue::CommitBatcher::Operation op) {
    return net::completion_on<Result<void>>(io.get_executor(), [this, op = std::move(op)](auto done) mutable {
      deps.batcher->submit(std::move(op), std::move(done));
    });
  }

  // The address lookups of every MX host, started at once; returns when the answers are enough
  // to plan (AddressLookups::done): max_addresses targets in MX order, or every answer. So a
  // domain with many slow MX hosts costs at most one lookup timeout, not one per host.
  awaitable<delivery::AddressLookups> lookup_all(const std::vector<delivery::MxHost>& hosts,
                                                 const delivery::MxPlanOptions& options) {
    struct State {
      delivery::AddressLookups lookups;
      asio::steady_timer ready;
      State(delivery::AddressLookups l, asio::io_context& ioc) : lookups(std::move(l)), ready(ioc) {}
    };
    auto st = std::make_shared<State>(delivery::AddressLookups(hosts, options), io);
    st->ready.expires_at(asio::steady_timer::time_point::max());
    asio::io_context& ioc = io;
    for (std::size_t i = 0; i < st->lookups.hosts().size(); ++i) {
      const std::string host = st->lookups.hosts()[i].host;
      deps.resolver->lookup_addresses(host, [&ioc, st, i, host](net::AddressAnswer a) {
        // Posted: a cached answer completes synchronously, before the wait below has begun.
        asio::post(ioc, [st, i, host, a = std::move(a)] {
          st->lookups.answer(i, plan_host_addresses(host, a));
          if (st->lookups.done()) st->ready.cancel();
        });
      });
    }
    if (!st->lookups.done()) co_await st->ready.async_wait(kNoThrow);
    co_return st->lookups;
  }

  // ---- scheduler maintenance ----
  std::string destination_for(std::string_view address) {
    auto domain = delivery::domain_of(address);
    auto plan = delivery::plan_route(domain, routes, defaults);
    if (plan) return plan->destination;
    return std::string(domain);
  }

  // A recipient this process queued or rescheduled (its record is committed).
  void add(QueueId id, std::uint32_t index, std::string_view address, TimeMs due) {
    due_window->add_direct(id, index, address, due);
  }

  void forget(Key k) { due_window->forget(k); }

  void poke() {
    poked = true;
    wake.cancel();
  }

  // Keeps the scheduler in line with the queue's due index without reading all of it: a change by
  // another process (`ferry queue flush/hold/release/delete`, sendmail's direct enqueue) signals
  // a reload of the soonest-due window; a slow safety reload catches a signal that was lost;
  // otherwise the window is refilled as it drains. Each read is bounded by the window size.
  void sync_due_window(TimeMs now) {
    if (reload_wanted || now - last_reload >= kSafetyReload.count()) {
      reload_wanted = false;
      last_reload = now;
      due_window->reload();
    } else {
      due_window->refill(now);
    }
  }

  // A batch handed out by the scheduler: no longer in the due window's mirror, in flight until
  // its settle.
  void mark_in_flight(const delivery::Batch& batch) {
    for (auto idx : batch.recipients) {
      due_window->taken({batch.queue_id, idx});
      in_flight.insert({batch.queue_id, idx});
    }
  }

  // ---- the dispatcher ----
  // Idle connections hold their slots, so take_ready, which needs a free slot, cannot reach them
  // when they fill the destination's window: they take its due work first (as a connection going
  // on does, take_next_for), or due mail would wait for one of them to time out idle.
  void feed_idle(TimeMs now) {
    for (auto it = idle.begin(); it != idle.end();) {
      auto& waiting = it->second;
      while (!waiting.empty()) {
        auto batch = scheduler.take_next_for(it->first, now);
        if (!batch) break;
        mark_in_flight(*batch);
        IdleConnection* c = waiting.front();
        waiting.pop_front();
        c->handoff = std::move(*batch);
        c->timer.cancel();
      }
      it = waiting.empty() ? idle.erase(it) : std::next(it);
    }
  }

  awaitable<void> dispatch_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      const TimeMs now = now_ms();
      sync_due_window(now);
      if (now - last_purge >= 1000) {
        unreachable.purge(now);
        tls_fallback.purge(now);
        last_purge = now;
      }
      const std::optional<TimeMs> pace_next = pacer->tick(now);
      feed_idle(now);
      for (auto& batch : scheduler.take_ready(now)) {
        mark_in_flight(batch);
        const bool idle_grant = take_idle_grant(batch.destination);
        auto& waiting = idle[batch.destination];
        if (!waiting.empty()) {
          // An idle connection to this destination takes it; it already holds a slot.
          IdleConnection* c = waiting.front();
          waiting.pop_front();
          c->handoff = std::move(batch);
          c->timer.cancel();
          scheduler.release(c->handoff->destination);
          if (!idle_grant) pacer->closed(c->handoff->destination);  // admitted as new, reuses one
          continue;
        }
        if (idle_grant) pacer->opened(batch.destination, now);  // its idle connection went to another
        asio::co_spawn(io, deliver(std::move(batch)), asio::detached);
      }
      TimeMs next = now + 1000;
      if (auto w = scheduler.next_wakeup()) next = std::min(next, std::max(*w, now));
      if (pace_next) next = std::min(next, std::max(*pace_next, now + 1));
      if (poked) {
        poked = false;
        continue;
      }
      wake.expires_after(std::chrono::milliseconds(std::max<TimeMs>(1, next - now)));
      co_await wake.async_wait(kNoThrow);
    }
  }

  // ---- expiry sweep (RFC 5321 §4.5.4.1): independent of the delivery path ----
  awaitable<void> sweep_loop() {
    auto self = shared_from_this();
    const auto interval = std::clamp<std::chrono::milliseconds>(
        cfg->retry.max_age / 20, std::chrono::seconds(1), std::chrono::seconds(60));
    bool more = false;  // the last turn took a full batch: the next one follows at once
    while (!stopping) {
      if (!more) {
        sweep_timer.expires_after(interval);
        co_await sweep_timer.async_wait(kNoThrow);
        if (stopping) break;
      }
      more = co_await sweep_once();
    }
  }

  // One sweep turn; true when it took a full batch (more may be waiting).
  awaitable<bool> sweep_once() {
    const TimeMs now = now_ms();
    std::vector<queue::MessageRecord> expired;
    // Queue ids begin with their allocation time, so the messages old enough to expire are the
    // first ones in id order: the walk stops at the first id younger than max_age (however big
    // the queue), and takes a bounded number per turn. Only messages with a recipient to expire
    // count, so held ones at the front cannot fill every batch.
    const TimeMs cutoff = now - cfg->retry.max_age.count();
    auto r = deps.store->for_each([&](const queue::MessageRecord& m) {
      if (static_cast<TimeMs>(m.id.value >> queue::IdAllocator::kSequenceBits) > cutoff) return false;
      if (m.envelope.arrival_ms <= cutoff && has_sweepable(m)) expired.push_back(m);
      return expired.size() < kSweepBatch;
    });
    if (!r && r.error().kind != ErrorKind::Corrupt) ops::log_error("expiry sweep: " + r.error().message);
    for (auto& m : expired) {
      delivery::RecipientAttempts results;
      for (const auto& rec : m.recipients) {
        if (!sweepable(m.id, rec)) continue;
        results.push_back({rec.index, delivery::expired_attempt(rec.last ? &*rec.last : nullptr, now)});
      }
      if (results.empty()) continue;
      for (auto& [idx, a] : results) forget({m.id, idx});
      Job job;
      job.message = m;
      auto body = deps.store->read_body(m.id);
      job.body = std::make_shared<const std::string>(body ? std::move(*body) : std::string());
      co_await settle(job, results, "");
    }
    co_return expired.size() == kSweepBatch;
  }

  // A recipient the expiry sweep may settle: pending, and no attempt of it in flight.
  bool sweepable(QueueId id, const queue::RecipientRecord& r) const {
    return r.state == RecipientState::Pending && !r.leased && !in_flight.count({id, r.index});
  }
  bool has_sweepable(const queue::MessageRecord& m) const {
    return std::any_of(m.recipients.begin(), m.recipients.end(),
                       [&](const queue::RecipientRecord& r) { return sweepable(m.id, r); });
  }

  // ---- one delivery: a batch, then more batches for the same destination on the connection ----
  awaitable<std::optional<Job>> prepare(const delivery::Batch& batch) {
    QueueId id{batch.queue_id};
    auto release_all = [&] {
      for (auto idx : batch.recipients) in_flight.erase({batch.queue_id, idx});
    };
    auto rec = deps.store->load(id);
    if (!rec) {
      release_all();
      co_return std::nullopt;
    }
    auto body = deps.store->read_body(id);
    if (!body) {
      ops::log_error(id.str() + ": cannot read the body: " + body.error().message);
      release_all();
      co_return std::nullopt;
    }
    Job job;
    job.message = std::move(*rec);
    job.body = std::make_shared<const std::string>(std::move(*body));
    const TimeMs now = now_ms();
    // Expired recipients are failed, not attempted; so are suppressed ones.
    delivery::RecipientAttempts expired;
    delivery::RecipientAttempts suppressed;
    std::vector<queue::DueRecipient> want;
    std::uint32_t max_attempts = 0;
    for (auto idx : batch.recipients) {
      if (idx >= job.message.recipients.size()) continue;
      const auto& r = job.message.recipients[idx];
      if (retry.expired(job.message.envelope.arrival_ms, now) && r.attempts > 0) {
        expired.push_back({idx, delivery::expired_attempt(r.last ? &*r.last : nullptr, now)});
        continue;
      }
      if (auto refused = suppressed_now(job.message.envelope.recipients[idx].address, now)) {
        suppressed.push_back({idx, std::move(*refused)});
        continue;
      }
      want.push_back({id, idx, now});
      max_attempts = std::max(max_attempts, r.attempts);
    }
    if (!expired.empty()) co_await settle(job, expired, batch.destination);
    if (!suppressed.empty()) co_await settle_suppressed(job, suppressed, batch.destination);
    if (want.empty()) {
      release_all();
      co_return std::nullopt;
    }
    // Record the attempt before making it: if we die mid-attempt, the retry comes at retry_at,
    // never in a hot loop.
    const TimeMs retry_at = retry.next_attempt(job.message.envelope.arrival_ms, max_attempts + 1, now, rand)
                                .value_or(now + retry.policy().first_ms);
    std::vector<queue::DueRecipient> leased;
    // Named, not a temporary: GCC 12 destroys temporaries in a co_await expression twice.
    queue::CommitBatcher::Operation lease_op = [&want, &leased, now,
                                                retry_at](queue::WriteTxn& t) -> Result<void> {
      auto r = t.try_lease(want, now, retry_at);
      if (!r) return r.error();
      leased = std::move(*r);
      return {};
    };
    auto lr = co_await commit(std::move(lease_op));
    if (!lr) {
      ops::log_error(id.str() + ": cannot record the attempt: " + lr.error().message);
      release_all();
      // Nothing was recorded: they are still pending in the queue, but out of the scheduler's
      // window since they were taken. Back in a second (a full disk may have room by then),
      // not at the window's next re-read.
      if (!stopping)
        for (const auto& w : want)
          add(id, w.index, job.message.envelope.recipients[w.index].address, now + kLeaseRetryMs);
      co_return std::nullopt;
    }
    std::set<std::uint32_t> got;
    for (auto& l : leased) got.insert(l.index);
    for (auto idx : batch.recipients)
      if (!got.count(idx)) in_flight.erase({batch.queue_id, idx});
    if (got.empty()) co_return std::nullopt;
    job.recipients.assign(got.begin(), got.end());
    job.started_ms = now;
    co_return job;
  }

  awaitable<void> deliver(delivery::Batch batch) {
    auto self = shared_from_this();
    ++active;
    const std::string dest = batch.destination;
    std::optional<Job> job = co_await prepare(batch);
    if (job) co_await deliver_job(std::move(*job), dest);
    scheduler.release(dest);
    pacer->closed(dest);
    scheduler.clear_holds();  // a destination at its [[pace]] connections limit may start again
    --active;
    poke();
    maybe_stopped();
  }

  // A leased job: route, REQUIRETLS check, then the targets.
  awaitable<void> deliver_job(Job job, const std::string& dest) {
    auto domain =
        std::string(delivery::domain_of(job.message.envelope.recipients[job.recipients.front()].address));
    auto plan = delivery::plan_route(domain, routes, defaults);
    // RFC 8689 §4.2.1: a REQUIRETLS message under a route whose TLS validates nothing fails now;
    // to a domain's own MX hosts, MTA-STS or DANE may still validate, decided per target.
    const bool route_decides = plan && (plan->routed || plan->lookup != delivery::RoutePlan::Lookup::Mx);
    const std::optional<Attempt> no_tls =
        route_decides ? delivery::require_tls_failure(delivery::tls_demand(job.message.envelope, *job.body),
                                                      delivery::route_policy_kind(plan->tls), now_ms())
                      : std::nullopt;
    if (!plan) {
      const Attempt failure = delivery::classify_error(plan.error(), now_ms());
      co_await fail_all(job, failure, dest);
    } else if (no_tls) {
      co_await fail_all(job, *no_tls, dest);
    } else {
      co_await deliver_to_targets(std::move(job), *plan, dest, domain);
    }
  }

  // ---- the next message of a reused connection, leased while the current one is answered ----
  // A connection that has sent its data waits a round trip for the reply; the lease of its next
  // message (a synced commit) runs meanwhile, so after the reply it can go on at once. The lease
  // is made before that attempt as always; a prefetched job whose connection ended first is
  // delivered on a connection of its own (it holds no slot: take_next_for takes none).
  struct Connection;
  struct Prefetch {
    std::optional<Job> job;
    std::string dest;
    bool done = false;
    bool abandoned = false;
    asio::steady_timer ready;
    Prefetch(asio::io_context& io, std::string d) : dest(std::move(d)), ready(io) {
      ready.expires_at(asio::steady_timer::time_point::max());
    }
  };

  void start_prefetch(Connection& c, const smtp::ClientSession& session) {
    if (c.prefetch || stopping || session.mail_limit_reached()) return;
    const std::uint32_t pace_limit = pacer->messages_per_connection(c.dest, now_ms());
    if (pace_limit > 0 && c.messages + 1 > pace_limit) return;
    auto batch = scheduler.take_next_for(c.dest, now_ms());
    if (!batch) return;
    mark_in_flight(*batch);
    c.prefetch = std::make_shared<Prefetch>(io, c.dest);
    ++active;
    asio::co_spawn(io, prefetch(c.prefetch, std::move(*batch)), asio::detached);
  }

  awaitable<void> prefetch(std::shared_ptr<Prefetch> p, delivery::Batch batch) {
    auto self = shared_from_this();
    p->job = co_await prepare(batch);
    p->done = true;
    if (!p->abandoned) {
      p->ready.cancel();
    } else if (p->job && !stopping) {
      co_await deliver_job(std::move(*p->job), p->dest);
    } else if (p->job) {
      drop_job(*p->job);
    }
    --active;
    poke();
    maybe_stopped();
  }

  // The prefetched job, once leased (nullopt when none was started or its lease failed).
  awaitable<std::optional<Job>> take_prefetch(Connection& c) {
    if (!c.prefetch) co_return std::nullopt;
    auto p = std::move(c.prefetch);
    if (!p->done) co_await p->ready.async_wait(kNoThrow);
    if (p->job && stopping) {
      drop_job(*p->job);
      p->job.reset();
    }
    co_return std::move(p->job);
  }

  // A leased job not attempted because the daemon stops: its lease in the queue makes it due
  // again after the next start (as for a delivery cut short by the stop).
  void drop_job(const Job& job) {
    for (auto idx : job.recipients) in_flight.erase({job.message.id, idx});
  }

  // The connection ends with a prefetched job it did not start: another connection delivers it.
  void abandon_prefetch(Connection& c) {
    if (!c.prefetch) return;
    auto p = std::move(c.prefetch);
    if (!p->done) {
      p->abandoned = true;
      return;
    }
    if (!p->job) return;
    if (stopping) {
      drop_job(*p->job);
      return;
    }
    ++active;
    asio::co_spawn(io, deliver_orphan(std::move(p)), asio::detached);
  }

  awaitable<void> deliver_orphan(std::shared_ptr<Prefetch> p) {
    auto self = shared_from_this();
    co_await deliver_job(std::move(*p->job), p->dest);
    --active;
    poke();
    maybe_stopped();
  }

  // DANE (RFC 7672) and MTA-STS (RFC 8461 §2): where the MX hosts publish a usable TLSA RRset,
  // DANE decides the TLS and MTA-STS is not consulted. The DANE check answers here; until it
  // does, no delivery is under DANE.
  bool dane_decides(const delivery::RoutePlan& plan) const {
    (void)plan;
    return false;
  }

  // The recipient domain's MTA-STS policy, for a delivery to its own MX hosts only: a route with
  // a host of its own (a smarthost, a literal) is not the domain's MX and keeps its own TLS.
  // Looked up per recipient domain (the scheduler's destination), so a broken policy of one
  // domain never holds back another domain that shares its MX hosts.
  awaitable<StsGate> sts_gate(const delivery::RoutePlan& plan, const std::string& domain, QueueId id) {
    StsGate gate;
    gate.domain = text::to_lower(domain);
    if (!sts || !cfg->mta_sts.enabled || plan.routed || plan.lookup != delivery::RoutePlan::Lookup::Mx ||
        dane_decides(plan))
      co_return gate;
    const StsOutcome outcome = co_await sts->policy_for(gate.domain);
    if (!outcome.problem.empty() && outcome.policy)
      ops::log_info(id.str() + ": mta-sts: " + gate.domain + ": " + outcome.problem +
                    "; applying the cached policy");
    gate.policy = outcome.policy;
    if (!outcome.problem.empty() && !outcome.txt_id.empty())
      report_tls(
          {gate.domain, delivery::TlsPolicyKind::StsEnforce, false,
           outcome.problem.rfind("invalid policy", 0) == 0 ? "sts-policy-invalid" : "sts-policy-fetch-error",
           "", "", outcome.problem},
          gate.policy);
    co_return gate;
  }

  // An MTA-STS event without a TLS session of its own (a failed policy fetch, no MX matching):
  // counted for TLS Reporting under the domain's "sts" policy; sessions are reported per
  // connection by report_tls(Connection&, ...).
  void report_tls(const TlsOutcome& outcome, const std::optional<delivery::StsPolicy>& policy) {
    if (deps.on_tls_outcome)
      deps.on_tls_outcome(sts_report_outcome(outcome, policy ? &*policy : nullptr, now_ms()));
  }

  // The targets MTA-STS leaves (RFC 8461 §5.1); testing mode logs what enforce would refuse.
  // A refusal under enforce is returned as the failure every recipient gets.
  std::optional<Attempt> sts_targets(const StsGate& gate, std::vector<delivery::Target>& list,
                                     delivery::RoutePlan& plan, const Job& job) {
    StsVerdict verdict = sts_apply(gate, list, plan, cfg->mta_sts.ca_file);
    plan.sts_policy = gate.policy;
    if (!verdict.refused.empty() && gate.policy->mode == delivery::StsMode::Testing) {
      std::string names;
      for (const auto& r : verdict.refused) names += (names.empty() ? "" : ", ") + r;
      ops::log_info(job.message.id.str() + ": mta-sts testing: " + names + " not in the policy of " +
                    gate.domain + " (delivered anyway; enforce would refuse)");
    }
    list = std::move(verdict.targets);
    if (!verdict.failure) return std::nullopt;
    report_tls({gate.domain, delivery::TlsPolicyKind::StsEnforce, false, "validation-failure", "", "",
                verdict.failure->detail},
               gate.policy);
    Attempt failure = delivery::classify_error(*verdict.failure, now_ms());
    failure.reply = verdict.failure->detail;  // not a handshake that failed: no MX was allowed
    failure.tls = "none, tls_policy=sts-enforce";
    return failure;
  }

  awaitable<void> fail_all(Job& job, const Attempt& attempt, const std::string& dest) {
    delivery::RecipientAttempts results;
    for (auto idx : job.recipients) results.push_back({idx, attempt});
    co_await settle(job, results, dest);
  }

  void learn_pace_mx(const std::string& domain, const net::MxAnswer& mx) {
    pacer->learn_mx(ferry::text::to_lower(domain), pace_mx_hosts(mx), now_ms());
  }

  // Resolves the route/MX plan into connection targets.
  awaitable<Result<std::vector<delivery::Target>, delivery::NetworkError>> targets_for(
      const delivery::RoutePlan& plan) {
    using R = Result<std::vector<delivery::Target>, delivery::NetworkError>;
    if (plan.lookup == delivery::RoutePlan::Lookup::Literal && plan.literal) {
      co_return R{std::vector<delivery::Target>{{plan.name, plan.literal->str(), 0}}};
    }
    net::MxAnswer mx = co_await net::resolve_mx(*deps.resolver, io.get_executor(), plan.name);
    const delivery::MxAnswer answer = plan_mx_answer(mx);
    if (!plan.routed) learn_pace_mx(plan.name, mx);
    delivery::MxPlanOptions options;
    options.max_addresses = cfg->delivery.max_addresses;
    options.own_hostnames = {deps.hostname};
    auto hosts = delivery::plan_mx_hosts(plan.name, answer, options, rand);
    if (!hosts) {
      delivery::NetworkError e = std::move(hosts).error();
      if (e.detail.empty() && !mx.error.empty()) e.detail = mx.error;
      co_return R{std::move(e)};
    }
    const delivery::AddressLookups lookups = co_await lookup_all(*hosts, options);
    co_return lookups.targets();
  }

  awaitable<void> deliver_to_targets(Job job, const delivery::RoutePlan& route_plan, const std::string& dest,
                                     const std::string& domain) {
    auto targets = co_await targets_for(route_plan);
    if (!targets) {
      const Attempt failure = delivery::classify_error(targets.error(), now_ms());
      co_await fail_all(job, failure, dest);
      co_return;
    }
    // After the MX plan: a domain whose MX lookup fails is not held up by its policy lookup.
    const delivery::TlsDemand demand = delivery::tls_demand(job.message.envelope, *job.body);
    // `TLS-Required: No` (RFC 8689 §4.2.2): the domain's MTA-STS and DANE policies do not apply.
    // (Awaited as a statement of its own: GCC 12 mishandles co_await inside a conditional.)
    StsGate gate;
    if (!demand.policy_waived) gate = co_await sts_gate(route_plan, domain, job.message.id);
    auto& list = *targets;
    delivery::RoutePlan plan = route_plan;  // MTA-STS may require verified TLS to fewer targets
    if (gate.policy) {
      const std::optional<Attempt> refused = sts_targets(gate, list, plan, job);
      if (refused) {
        co_await fail_all(job, *refused, dest);
        co_return;
      }
    }
    for (auto idx : job.recipients) job.unresolved[idx] = std::nullopt;
    std::optional<Job> current = std::move(job);
    std::size_t tried = 0;
    std::string skipped;  // targets passed over as recently unreachable, for the reply text
    for (std::size_t i = 0; i < list.size() && current && !current->unresolved.empty(); ++i) {
      const auto& target = list[i];
      const std::uint16_t port = plan.port;
      const std::string key = target.ip + ":" + std::to_string(port);
      if (unreachable.is_unreachable(key, now_ms())) {
        skipped +=
            (skipped.empty() ? "" : ", ") +
            delivery::relay_text({0, AttemptOutcome::Started, target.host, target.ip, port, 0, "", "", ""});
        continue;
      }
      ++tried;
      if (delivery::is_own_listener(target.ip, port, own_listeners, local_addresses)) {
        delivery::NetworkError loop{
            delivery::NetworkErrorKind::MailLoop,
            target.host + "[" + target.ip + "]:" + std::to_string(port) + " is this server"};
        for (auto& [idx, a] : current->unresolved) a = delivery::classify_error(loop, now_ms());
        break;
      }
      std::optional<delivery::RoutePlan> target_plan = plan;
      if (!demand.policy_waived) target_plan = co_await plan_for_target(plan, target, *current);
      if (!target_plan) continue;  // DANE: this MX host cannot be used now; the next one may
      if (refuse_unvalidated(demand, *target_plan, *current)) continue;  // REQUIRETLS: another MX may
      current = co_await run_connection_with_fallback(std::move(*current), *target_plan, target, dest);
      // A pooled connection the remote had closed (idle timeout, a limit of messages per
      // connection, a restart) costs a reconnect, never a deferral: the same target again.
      while (current && current->retry_fresh) co_await retry_fresh(current, *target_plan, target, dest);
    }
    if (current && !current->unresolved.empty()) {
      delivery::RecipientAttempts rest(current->unresolved.begin(), current->unresolved.end());
      current->unresolved.clear();
      // Every target is in the unreachable memory: a transient 4.4.1 without connecting.
      const delivery::NetworkError none_tried =
          tried == 0 && !skipped.empty()
              ? delivery::NetworkError{delivery::NetworkErrorKind::HostsUnreachable, skipped}
              : delivery::NetworkError{delivery::NetworkErrorKind::NoUsableMx, "no target tried"};
      for (auto& [idx, a] : rest)
        if (!a) a = delivery::classify_error(none_tried, now_ms());
      co_await settle(*current, rest, dest);
    }
  }

  // A TLSA lookup that failed in a signed zone, for TLS Reporting: the domain's "tlsa" policy
  // with "dnssec-invalid" (RFC 8460 §4.3.3: no valid records came back from the resolver).
  void report_dane_lookup_failure(const delivery::RoutePlan& plan, const delivery::Target& target) {
    if (!deps.on_tls_outcome) return;
    delivery::RoutePlan dane_plan = plan;
    dane_plan.dane = std::vector<delivery::TlsaRecord>{};
    const auto policy = session_tls_policy(dane_plan);
    if (!policy) return;
    deps.on_tls_outcome(
        {*policy,
         delivery::TlsFailureDetail{delivery::TlsResultType::DnssecInvalid, "", target.host, target.ip},
         now_ms()});
  }

  // RFC 8689 §4.2.1: a REQUIRETLS message goes only to a target whose TLS its policy validates
  // (DANE, MTA-STS enforce, a verifying route); this one gets the 5.7.30 failure unless a later
  // target qualifies.
  bool refuse_unvalidated(const delivery::TlsDemand& demand, const delivery::RoutePlan& plan, Job& job) {
    const delivery::TlsPolicyKind kind = plan.tls_policy_kind.value_or(delivery::route_policy_kind(plan.tls));
    const std::optional<Attempt> refused = delivery::require_tls_failure(demand, kind, now_ms());
    if (!refused) return false;
    for (auto& [idx, a] : job.unresolved) a = *refused;
    return true;
  }

  // The plan for one target. An MX delivery under the default (opportunistic) policy asks DANE
  // first (RFC 7672): with a validated TLSA RRset, TLS is mandatory and must match it, and no
  // other policy (MTA-STS, RFC 8461 §2) is consulted; a failed TLSA lookup in a signed zone
  // makes the host unusable for now (nullopt, the unresolved recipients deferred 4.7.5).
  // Routes and address literals keep their own policy.
  awaitable<std::optional<delivery::RoutePlan>> plan_for_target(const delivery::RoutePlan& plan,
                                                                const delivery::Target& target, Job& job) {
    delivery::RoutePlan out = plan;
    // MTA-STS may have made the TLS "verify" for this domain: DANE still wins for a host with
    // usable TLSA records (RFC 8461 §2); a route's own tls setting is never overridden.
    const bool sts_governed = plan.tls_policy_kind == delivery::TlsPolicyKind::StsEnforce ||
                              plan.tls_policy_kind == delivery::TlsPolicyKind::StsTesting;
    if (plan.lookup != delivery::RoutePlan::Lookup::Mx || plan.routed ||
        (plan.tls != delivery::TlsPolicy::Opportunistic && !sts_governed) || !tls_dane)
      co_return out;
    auto gate = dane_for_host(*deps.resolver, io.get_executor(), plan.name, target.host, plan.port);
    const delivery::DaneDecision decision = co_await std::move(gate);
    if (decision.kind == delivery::DaneDecision::Kind::NoDane) co_return out;
    if (delivery::dane_applies(decision)) {  // MTA-STS is not consulted for this host
      out.tls = delivery::TlsPolicy::Required;
      out.tls_policy_kind = delivery::TlsPolicyKind::Dane;
      out.dane = decision.records;
      out.dane_base_domain = decision.base_domain;
      co_return out;
    }
    Attempt a = delivery::classify_error(
        {delivery::NetworkErrorKind::TlsFailure, "DANE: " + target.host + ": " + decision.reason}, now_ms());
    a.host = target.host;
    a.ip = target.ip;
    a.port = plan.port;
    a.tls = kDaneNoTls;
    for (auto& [idx, at] : job.unresolved) at = a;
    ops::log_info(job.message.id.str() + ": " + target.host + "[" + target.ip + "]:" +
                  std::to_string(plan.port) + " skipped: " + decision.reason + " (DANE, RFC 7672 §2.2)");
    report_dane_lookup_failure(plan, target);
    co_return std::nullopt;
  }

  awaitable<void> retry_fresh(std::optional<Job>& job, const delivery::RoutePlan& plan,
                              const delivery::Target& target, const std::string& dest) {
    job->retry_fresh = false;
    const Attempt lost = job->unresolved.begin()->second.value_or(Attempt{});
    if (std::exchange(job->limit_reached, false)) {
      // Only the recipients not sent yet: the others were settled on the old connection.
      job->recipients.clear();
      for (const auto& [idx, a] : job->unresolved) job->recipients.push_back(idx);
      ops::log_info(job->message.id.str() + ": " + delivery::relay_text(lost) + ": " + lost.reply +
                    "; continuing on a new connection");
    } else {
      ops::log_info(job->message.id.str() + ": reused connection to " + delivery::relay_text(lost) +
                    " was closed by the remote (" + delivery::reply_text(lost) +
                    "); retrying on a new connection");
    }
    for (auto& [idx, a] : job->unresolved) a = std::nullopt;
    job = co_await run_connection_with_fallback(std::move(*job), plan, target, dest);
  }

  std::chrono::milliseconds timeout_for(smtp::ClientPhase phase) const {
    switch (phase) {
      case smtp::ClientPhase::Greeting:
        return cfg->delivery.greeting_timeout;
      case smtp::ClientPhase::Rcpt:
        return cfg->delivery.rcpt_timeout;
      case smtp::ClientPhase::DataInit:
        return cfg->delivery.data_init_timeout;
      case smtp::ClientPhase::DataDone:
        return cfg->delivery.data_done_timeout;
      case smtp::ClientPhase::Idle:
        return cfg->delivery.idle_timeout;
      default:
        return cfg->delivery.mail_timeout;
    }
  }

  // One target, with the opportunistic-TLS fallback (RFC 3207 §4.1 leaves a failed handshake to
  // the client; RFC 7435 §3: opportunistic security must not make delivery worse than plaintext):
  // when the STARTTLS handshake fails, the same target is tried again at once without STARTTLS,
  // rather than deferring the mail or sending later mail in clear for ever.
  awaitable<std::optional<Job>> run_connection_with_fallback(Job job, const delivery::RoutePlan& plan,
                                                             const delivery::Target& target,
                                                             const std::string& dest) {
    bool handshake_failed = false;
    std::optional<Job> rest =
        co_await run_connection(std::move(job), plan, target, dest, false, handshake_failed);
    if (!handshake_failed || !rest || rest->unresolved.empty() || stopping) co_return rest;
    ops::log_info(rest->message.id.str() + ": TLS handshake with " + target.host + "[" + target.ip +
                  "]:" + std::to_string(plan.port) + " failed; retrying in plaintext (opportunistic TLS)");
    co_return co_await run_connection(std::move(*rest), plan, target, dest, true, handshake_failed);
  }

  // One SMTP connection while it runs: the job on it (the next one once the connection is
  // reused), the socket with its optional TLS layer and deadline timer, and what the connection
  // learnt on the way (its TLS, a failed handshake, a pooled connection the remote had closed).
  struct Connection {
    Job job;
    const delivery::RoutePlan& plan;
    const delivery::Target& target;
    const std::string& dest;
    const std::string key;  // "ip:port": the unreachable and TLS fallback memories
    net::SmtpStream stream;
    boost::system::error_code ec;  // the last failed operation's error (asio::error::timed_out at a deadline)
    // Opportunistic TLS that failed its handshake here recently (or just now): plaintext, and the
    // log line and `ferry queue show` say why it was not encrypted.
    bool fallback = false;
    std::string tls_info = "none";
    std::string tls_problem;  // why the handshake did not start, when it is not a socket error
    bool handshake_failed = false;
    bool sts_tls_failed = false;  // an MTA-STS enforce policy's TLS failed here (4.7.5)
    bool session_failed = false;
    // Connection reuse: the remote may have closed a pooled connection while it sat idle. EOF or
    // a reset (or a 421, RFC 5321 §3.8) before the reply to MAIL means it was gone before this
    // message started: retried on a new connection, neither a deferral nor slow-start feedback.
    bool reused = false, pool_dead = false, reply_at_pool_start = false;
    bool limit_reached = false;  // the server's MAILMAX (RFC 9422) ended the connection
    std::uint32_t messages = 1;  // transactions begun on it ([[pace]] messages_per_connection)
    std::vector<std::shared_ptr<const std::string>> bodies;  // keep the session's views alive
    std::shared_ptr<Prefetch> prefetch;                      // the next message, being leased
    // TLS Reporting (RFC 8460): the policy this session is reported under (nullopt: not an MX
    // delivery, nothing to report), and whether its one outcome was reported.
    std::optional<delivery::TlsPolicyRef> tls_policy;
    bool tls_reported = false;

    Connection(asio::io_context& io, Job j, const delivery::RoutePlan& p, const delivery::Target& t,
               const std::string& d)
        : job(std::move(j)),
          plan(p),
          target(t),
          dest(d),
          key(t.ip + ":" + std::to_string(p.port)),
          stream(io.get_executor()),
          tls_policy(session_tls_policy(p)) {}

    bool timed_out() const { return stream.timed_out(); }
    // The TLS as recorded with the results: what was negotiated, and which rule decided it — a
    // domain's published policy (MTA-STS, DANE) or else the route's tls setting. Appended as its
    // own ", tls_policy=" field so readers of "tls=..." up to the comma see what they saw before.
    std::string tls_report() const {
      const delivery::TlsPolicyKind kind = plan.tls_policy_kind.value_or(
          plan.tls == delivery::TlsPolicy::Verify     ? delivery::TlsPolicyKind::Verify
          : plan.tls == delivery::TlsPolicy::Required ? delivery::TlsPolicyKind::Required
                                                      : delivery::TlsPolicyKind::Opportunistic);
      // After the first field (the TLS version and cipher), before details such as "dane=...".
      const std::string policy = ", tls_policy=" + std::string(delivery::to_string(kind));
      const auto comma = tls_info.find(", ");
      if (comma == std::string::npos) return tls_info + policy;
      return tls_info.substr(0, comma) + policy + tls_info.substr(comma);
    }
  };

  // Runs one SMTP connection to `target`. Returns the job whose recipients are still unresolved
  // when the connection failed at session level (so the next target can take them), or nullopt.
  // `plaintext_retry`: no STARTTLS (the fallback after a failed handshake); `handshake_failed` is
  // set when an opportunistic STARTTLS handshake failed, so the caller may retry that way.
  awaitable<std::optional<Job>> run_connection(Job job, const delivery::RoutePlan& plan,
                                               const delivery::Target& target, const std::string& dest,
                                               bool plaintext_retry, bool& handshake_failed) {
    ++stats.connections;
    ++stats.active_connections;
    struct Count {
      DeliveryStats& s;
      ~Count() { --s.active_connections; }
    } count{stats};
    Connection c(io, std::move(job), plan, target, dest);
    // Awaited into named values: GCC 12 miscompiles some co_await expressions in conditions.
    const bool connected = co_await open_connection(c, plaintext_retry);
    if (!connected) co_return std::move(c.job);
    bool secured = true;
    if (plan.implicit_tls) secured = co_await handshake(c);
    if (!secured) {
      conn_error(c, delivery::NetworkErrorKind::TlsFailure,
                 c.timed_out()            ? "handshake timeout"
                 : !c.tls_problem.empty() ? c.tls_problem
                                          : c.ec.message());
      co_return std::move(c.job);
    }
    smtp::ClientSession session(client_options(c), c.job.message.envelope, *c.job.body, c.job.recipients);
    c.bodies = {c.job.body};
    co_await converse(c, session);
    handshake_failed = c.handshake_failed;
    std::optional<Job> rest = co_await finish_connection(c);
    co_return rest;
  }

  // Every unresolved recipient of the connection gets this connection-level failure.
  void conn_error(Connection& c, delivery::NetworkErrorKind kind, std::string detail) {
    Attempt a = delivery::classify_error({kind, std::move(detail)}, now_ms());
    a.host = c.target.host;
    a.ip = c.target.ip;
    a.port = c.plan.port;
    for (auto& [idx, at] : c.job.unresolved) at = a;
  }

  // Opens the TCP connection (from the route's source address, if any). A target that refused or
  // did not answer is remembered as unreachable and asks the destination for one connection fewer.
  awaitable<bool> open_connection(Connection& c, bool plaintext_retry) {
    auto address = asio::ip::make_address(c.target.ip, c.ec);
    if (c.ec) {
      conn_error(c, delivery::NetworkErrorKind::BadAddressLiteral, c.target.ip);
      co_return false;
    }
    c.stream.socket().open(address.is_v6() ? tcp::v6() : tcp::v4(), c.ec);
    if (!c.ec && !c.plan.source_address.empty()) {
      auto src = asio::ip::make_address(c.plan.source_address, c.ec);
      if (!c.ec) c.stream.socket().bind(tcp::endpoint(src, 0), c.ec);
    }
    if (!c.ec) {
      const tcp::endpoint endpoint(address, c.plan.port);
      c.ec = co_await c.stream.connect(endpoint, cfg->delivery.connect_timeout);
    }
    if (c.ec) {
      using Kind = delivery::NetworkErrorKind;
      conn_error(c, c.timed_out() ? Kind::Timeout : Kind::ConnectRefused,
                 c.timed_out() ? "connect" : c.ec.message());
      const auto remember = std::min<std::chrono::milliseconds>(cfg->retry.first, std::chrono::hours(1));
      unreachable.mark(c.key, now_ms() + remember.count());
      scheduler.connection_failed(c.dest);  // slow start: one connection fewer to this destination
      co_return false;
    }
    unreachable.clear(c.key);  // it answers again
    c.stream.socket().set_option(tcp::no_delay(true), c.ec);
    c.fallback = c.plan.tls == delivery::TlsPolicy::Opportunistic && !c.plan.implicit_tls &&
                 (plaintext_retry || tls_fallback.is_unreachable(c.key, now_ms()));
    c.tls_info = c.fallback ? "fallback-after-handshake-failure" : "none";
    co_return true;
  }

  // The TLS handshake (implicit TLS or after STARTTLS); false with `tls_problem`, `ec` or
  // `timed_out` saying why when it did not complete.
  awaitable<bool> handshake(Connection& c) {
    if (c.plan.dane && !c.plan.dane->empty()) {
      const bool matched = co_await dane_handshake(c);
      co_return matched;
    }
    const bool verify = c.plan.tls == delivery::TlsPolicy::Verify;
    const bool sts_testing = c.plan.tls_policy_kind == delivery::TlsPolicyKind::StsTesting;
    auto ctx = verify ? verify_context(c.plan.tls_ca_file) : sts_testing ? sts_testing_context() : tls_plain;
    if (!ctx) {
      c.tls_problem = c.plan.sts_policy ? "[mta_sts] ca_file cannot be loaded"
                                        : "the route's tls_ca_file cannot be loaded";
      co_return false;
    }
    c.stream.begin_tls(*ctx);
    // Under Verify an identity is always checked: no name (an address literal without
    // tls_name) means no connection, never "any certificate from a trusted CA".
    if (!net::set_client_identity(c.stream.tls(), delivery::tls_identity(c.plan, c.target.host), verify)) {
      c.tls_problem = "no host name to verify the certificate against (set the route's tls_name)";
      co_return false;
    }
    // RFC 8461 §5 testing: the certificate is checked for the report, not enforced.
    if (sts_testing) SSL_set1_host(c.stream.tls(), c.target.host.c_str());
    c.ec = co_await c.stream.handshake(asio::ssl::stream_base::client, cfg->delivery.greeting_timeout);
    if (c.plan.tls_policy_kind) report_handshake(c, sts_testing);
    if (c.ec) {
      report_tls(c, handshake_failure_type(c.stream.tls()));
      co_return false;
    }
    c.tls_info = c.stream.tls_summary();
    report_tls(c, std::nullopt);
    // DANE with no usable record: TLS was mandatory, without authentication (RFC 7672 §2.2).
    co_return true;
  }

  // RFC 7672 §3: the handshake succeeds only when the server's certificate matches one of the
  // host's TLSA records (OpenSSL's DANE verification); the match is logged with the TLS.
  awaitable<bool> dane_handshake(Connection& c) {
    c.stream.begin_tls(*tls_dane);
    if (!net::set_dane(c.stream.tls(), c.target.host, c.plan.dane_base_domain, net_tlsa(*c.plan.dane))) {
      c.tls_problem = "DANE: no TLSA record could be used";
      co_return false;
    }
    c.ec = co_await c.stream.handshake(asio::ssl::stream_base::client, cfg->delivery.greeting_timeout);
    if (c.ec) {
      const long verdict = SSL_get_verify_result(c.stream.tls());
      if (verdict != X509_V_OK)
        c.tls_problem = std::string("DANE: the certificate matches no TLSA record (") +
                        X509_verify_cert_error_string(verdict) + ")";
      report_tls(c, delivery::TlsResultType::ValidationFailure);
      co_return false;
    }
    report_tls(c, std::nullopt);
    c.tls_info = c.stream.tls_summary() + ", dane=" + net::dane_match(c.stream.tls());
    co_return true;
  }

  // The one place a session's TLS outcome goes to TLS Reporting, once per connection, under the
  // policy that applied (`c.tls_policy`: where MTA-STS or DANE apply they set it).
  void report_tls(Connection& c, std::optional<delivery::TlsResultType> failure) {
    if (c.tls_reported || !c.tls_policy || !deps.on_tls_outcome) return;
    c.tls_reported = true;
    boost::system::error_code ec;
    const auto local = c.stream.socket().local_endpoint(ec);
    deps.on_tls_outcome(tls_outcome(*c.tls_policy, c.target, ec ? std::string() : local.address().to_string(),
                                    failure, now_ms()));
  }

  // Under MTA-STS testing: the system's (or [mta_sts] ca_file's) CAs are loaded so the chain and
  // the MX name are checked and the verdict recorded, but a failure does not stop the handshake.
  std::shared_ptr<asio::ssl::context> sts_testing_context() {
    if (tls_sts_testing) return tls_sts_testing;
    auto lenient = net::make_client_tls_context(true, cfg->mta_sts.ca_file);
    if (!lenient) {
      ops::log_error("mta-sts: " + lenient.error().message);
      return tls_plain;  // testing never stops a delivery
    }
    (*lenient)->set_verify_mode(asio::ssl::verify_none);  // OpenSSL still records the verdict
    return tls_sts_testing = *lenient;
  }

  // A TLS outcome for the report; under testing a certificate that would fail enforce is logged.
  void report_handshake(const Connection& c, bool sts_testing) {
    std::string problem = c.ec ? c.ec.message() : "";
    if (!c.ec && sts_testing) {
      const long verdict = SSL_get_verify_result(c.stream.tls());
      if (verdict != X509_V_OK) problem = X509_verify_cert_error_string(verdict);
      if (verdict != X509_V_OK)
        ops::log_info("mta-sts testing: " + c.dest + ": the certificate of " + c.target.host + "[" +
                      c.target.ip + "] is not valid for it (" + problem +
                      "); delivered anyway, enforce would refuse");
    }
  }

  smtp::ClientOptions client_options(Connection& c) {
    smtp::ClientOptions options;
    options.helo_name = deps.hostname;
    options.tls = c.fallback ? smtp::ClientTlsPolicy::None : map_client_tls(c.plan.tls);
    options.tls_active = c.plan.implicit_tls;
    // RFC 8689 §4.2.1: only a verified certificate carries a REQUIRETLS message.
    options.policy_requires_tls = c.plan.tls_policy_kind == delivery::TlsPolicyKind::Dane ||
                                  c.plan.tls_policy_kind == delivery::TlsPolicyKind::StsEnforce;
    options.tls_validated =
        !c.fallback &&
        delivery::validates_tls(c.plan.tls_policy_kind.value_or(delivery::route_policy_kind(c.plan.tls)));
    options.auth_user = c.plan.auth_user;
    options.auth_password = c.plan.auth_password;
    options.remote_host = c.target.host;
    options.remote_ip = c.target.ip;
    options.remote_port = c.plan.port;
    options.clock = [] { return now_ms(); };
    // The connection's current job: a reused connection carries the next message.
    options.convert_8bit = [this, &c](std::string_view body) { return convert_8bit(c.job, c.target, body); };
    return options;
  }

  // Drives the session until it closes: performs its actions, reuses the connection for the next
  // message to the destination when one is done, and otherwise reads the server's replies.
  awaitable<void> converse(Connection& c, smtp::ClientSession& session) {
    std::string inbuf(16 * 1024, '\0');
    for (;;) {
      // Results of an action (tls_started, connection_lost) queue more actions: drain them all.
      while (session.has_action())
        for (auto& action : session.take_actions()) co_await perform(c, session, action);
      if (session.closed() || !c.stream.is_open()) break;
      if (session.idle() && c.job.unresolved.empty())
        co_await next_message(c, session);
      else
        co_await read_replies(c, session, inbuf);
    }
  }

  awaitable<void> perform(Connection& c, smtp::ClientSession& session, smtp::ClientAction& action) {
    if (auto* send = std::get_if<smtp::ClientSend>(&action)) {
      co_await send_bytes(c, session, *send);
    } else if (std::get_if<smtp::ClientStartTls>(&action)) {
      co_await start_tls(c, session);
    } else if (auto* done = std::get_if<smtp::ClientDone>(&action)) {
      co_await session_done(c, *done);
    } else if (std::get_if<smtp::ClientClose>(&action)) {
      c.stream.close();
    }
  }

  // A reused connection still before the reply to MAIL: a failure here means the remote had
  // closed it while idle.
  static bool at_pool_start(const Connection& c, const smtp::ClientSession& session) {
    const auto phase = session.current_phase();
    return c.reused && (phase == smtp::ClientPhase::Command || phase == smtp::ClientPhase::Mail);
  }

  awaitable<void> send_bytes(Connection& c, smtp::ClientSession& session, const smtp::ClientSend& send) {
    const auto deadline = send.message_data ? cfg->delivery.data_block_timeout : cfg->delivery.mail_timeout;
    c.ec = co_await c.stream.write(send.bytes, deadline);
    if (!c.ec && send.message_data) start_prefetch(c, session);
    if (c.ec && !c.timed_out() && at_pool_start(c, session)) c.pool_dead = true;
    if (c.ec) session.connection_lost(c.timed_out() ? "timeout writing" : c.ec.message());
  }

  awaitable<void> start_tls(Connection& c, smtp::ClientSession& session) {
    // Awaited into a named value: GCC 12 miscompiles this co_await inside an if condition.
    const bool secured = co_await handshake(c);
    if (secured) {
      session.tls_started();
      co_return;
    }
    if (c.plan.dane) {
      dane_failed(c);
      co_return;
    }
    if (c.plan.tls == delivery::TlsPolicy::Opportunistic) {
      c.handshake_failed = true;
      if (cfg->delivery.tls_fallback_memory.count() > 0)
        tls_fallback.mark(c.key, now_ms() + cfg->delivery.tls_fallback_memory.count());
    }
    c.sts_tls_failed = c.plan.tls_policy_kind == delivery::TlsPolicyKind::StsEnforce;
    session.connection_lost("TLS handshake failed: " + (c.timed_out()            ? std::string("timeout")
                                                        : !c.tls_problem.empty() ? c.tls_problem
                                                                                 : c.ec.message()));
  }

  // A DANE handshake that failed (RFC 7672 §2.2): never plaintext, never the fallback memory;
  // the recipients are deferred 4.7.5 unless a later MX host of the destination takes them.
  void dane_failed(Connection& c) {
    conn_error(c, delivery::NetworkErrorKind::TlsFailure,
               c.timed_out()            ? std::string("DANE: handshake timeout")
               : !c.tls_problem.empty() ? c.tls_problem
                                        : "DANE: " + c.ec.message());
    for (auto& [idx, at] : c.job.unresolved) at->tls = kDaneNoTls;
    c.session_failed = true;
    c.stream.close();
  }

  // The session's results for the current message: final ones are settled now; after a failure
  // at session level they stay unresolved for the next target, with this connection's TLS (kept
  // if no later host does better).
  awaitable<void> session_done(Connection& c, smtp::ClientDone& done) {
    // RFC 8461 §5.1: a host that fails the policy's TLS requirement is a 4.7.5 deferral, not a
    // lost connection.
    if (c.sts_tls_failed)
      for (auto& r : done.results) {
        r.attempt.status = "4.7.5";
        r.attempt.status_derived = false;
        r.attempt.reply = "MTA-STS policy of " + c.dest + " not met: " + r.attempt.reply;
      }
    delivery::RecipientAttempts final_results;
    for (auto& r : done.results) {
      c.job.unresolved.erase(r.index);
      if (done.session_failure) {
        c.job.unresolved[r.index] = r.attempt;
        c.job.unresolved[r.index]->tls = c.tls_report();
      } else {
        final_results.push_back({r.index, r.attempt});
      }
    }
    if (done.session_failure) {
      c.session_failed = true;
      c.limit_reached = c.limit_reached || done.reconnect;
      if (c.reply_at_pool_start && !done.results.empty() && done.results.front().attempt.code == 421)
        c.pool_dead = true;
      if (!c.pool_dead && !done.reconnect && is_connection_trouble(done.results))
        scheduler.connection_failed(c.dest);
      // A 421 to the connection (RFC 5321 §3.8) from a server that was not just closing an idle
      // pooled connection: as good as "slow down" for pacing.
      if (!c.pool_dead && !done.results.empty() && done.results.front().attempt.code == 421)
        pacer->rate_limited(c.dest, c.job.started_ms, now_ms());
    }
    const std::string tls = c.tls_report();
    if (final_results.empty()) co_return;
    // The usual case, every recipient of the message answered and the session goes on: the
    // settle commits behind while the connection leases its next message, so both share one group
    // commit and the connection waits for one synced commit per message instead of two.
    if (!done.session_failure && c.job.unresolved.empty()) {
      settle_behind(c.job, std::move(final_results), c.dest, tls, done.remote_dsn);
      co_return;
    }
    co_await settle(c.job, final_results, c.dest, tls, done.remote_dsn);
  }

  // A settle that owns copies of what it records. The recipients stay in flight until it is
  // applied, and it counts as an active delivery, so stop() waits for it as for a connection.
  struct BehindSettle {
    Job job;
    delivery::RecipientAttempts results;
    std::string dest;
    std::string tls;
    bool remote_dsn = false;
  };
  void settle_behind(const Job& job, delivery::RecipientAttempts results, const std::string& dest,
                     const std::string& tls, bool remote_dsn) {
    auto s = std::make_shared<BehindSettle>(BehindSettle{job, std::move(results), dest, tls, remote_dsn});
    ++active;
    asio::co_spawn(io, settle_owned(std::move(s)), asio::detached);
  }
  awaitable<void> settle_owned(std::shared_ptr<BehindSettle> s) {
    auto self = shared_from_this();
    co_await settle(s->job, s->results, s->dest, s->tls, s->remote_dsn);
    --active;
    maybe_stopped();
  }

  // Reuses the connection for the next message to this destination (RSET between), waiting idle
  // for one until idle_timeout; with none, the session ends (QUIT).
  awaitable<void> next_message(Connection& c, smtp::ClientSession& session) {
    if (session.mail_limit_reached()) {  // RFC 9422 §5: MAILMAX used up; the next one reconnects
      session.finish();
      co_return;
    }
    const std::uint32_t pace_limit = pacer->messages_per_connection(c.dest, now_ms());
    if (pace_limit > 0 && c.messages >= pace_limit) {  // [[pace]] messages_per_connection
      session.finish();
      co_return;
    }
    std::optional<Job> next = co_await take_prefetch(c);
    while (!next && !stopping) {
      auto batch = scheduler.take_next_for(c.dest, now_ms());
      if (!batch) break;
      mark_in_flight(*batch);
      next = co_await prepare(*batch);
    }
    if (!next && !stopping) next = co_await wait_idle(c.dest);
    if (!next) {
      session.finish();
      co_return;
    }
    c.job = std::move(*next);
    ++c.messages;
    for (auto idx : c.job.recipients) c.job.unresolved[idx] = std::nullopt;
    c.bodies = {c.job.body};
    session.start_next(c.job.message.envelope, *c.job.body, c.job.recipients);
    c.reused = true;
  }

  awaitable<void> read_replies(Connection& c, smtp::ClientSession& session, std::string& inbuf) {
    std::size_t n = 0;
    const auto deadline = timeout_for(session.current_phase());
    std::tie(c.ec, n) = co_await c.stream.read_some(asio::buffer(inbuf), deadline);
    if (c.ec || n == 0) {
      if (!c.timed_out() && at_pool_start(c, session)) c.pool_dead = true;
      session.connection_lost(c.timed_out() ? std::string("timeout waiting for ") +
                                                  smtp::to_string(session.current_phase())
                              : c.ec ? c.ec.message()
                                     : "connection closed");
      co_return;
    }
    c.reply_at_pool_start = at_pool_start(c, session);
    session.feed(std::string_view(inbuf.data(), n));
    // RFC 8460 §4.3.1: the MX answered EHLO without offering STARTTLS.
    const auto& caps = session.capabilities();
    if (caps.esmtp && !caps.starttls && !c.fallback && !c.plan.implicit_tls)
      report_tls(c, delivery::TlsResultType::StarttlsNotSupported);
  }

  // The connection is closed. After a failure at session level the unresolved recipients go back
  // to the caller for the next target (or, for a dead pooled connection, a new connection);
  // otherwise what is left unresolved is settled with the last attempt made.
  awaitable<std::optional<Job>> finish_connection(Connection& c) {
    c.stream.close();
    abandon_prefetch(c);
    if (c.session_failed && !c.job.unresolved.empty()) {
      c.job.retry_fresh = c.pool_dead || c.limit_reached;
      c.job.limit_reached = c.limit_reached;
      co_return std::move(c.job);
    }
    if (!c.job.unresolved.empty()) {
      delivery::RecipientAttempts rest(c.job.unresolved.begin(), c.job.unresolved.end());
      c.job.unresolved.clear();
      const std::string tls = c.tls_report();
      co_await settle(c.job, rest, c.dest, tls);
    }
    co_return std::nullopt;
  }

  // RFC 6152 §3: the server lacks 8BITMIME; convert the message's 8-bit text to quoted-printable
  // (and renew our DKIM signature, which the new body breaks) rather than bounce it.
  smtp::EightBitConversion convert_8bit(const Job& job, const delivery::Target& target,
                                        std::string_view body) {
    SevenBitResult r = convert_to_7bit(body, deps.dkim.get(), now_ms());
    const std::string who =
        job.message.id.str() + ": " + target.host + "[" + target.ip + "] does not support 8BITMIME: ";
    if (!r.conversion.converted)
      ops::log_info(who + "cannot convert the message to 7 bits (" + r.conversion.reason + ")");
    else
      ops::log_info(who + "converted 8-bit text to quoted-printable" +
                    (r.resigned ? ", DKIM signature renewed" : ""));
    if (!r.warning.empty()) ops::log_warning(job.message.id.str() + ": " + r.warning);
    return std::move(r.conversion);
  }

  // Parks an idle connection until a batch for `dest` arrives or the idle timeout passes.
  awaitable<std::optional<Job>> wait_idle(const std::string& dest) {
    IdleConnection c(io);
    idle[dest].push_back(&c);
    // A batch held back by its [[pace]] connections limit can have this connection now.
    if (scheduler.clear_holds()) poke();
    c.timer.expires_after(cfg->delivery.idle_timeout);
    co_await c.timer.async_wait(kNoThrow);
    auto& q = idle[dest];
    q.erase(std::remove(q.begin(), q.end(), &c), q.end());
    if (q.empty()) idle.erase(dest);
    if (!c.handoff) co_return std::nullopt;
    co_return co_await prepare(*c.handoff);
  }

  // The failure for a recipient on the suppression list, or nullopt to attempt it. A lookup
  // that fails is no refusal (the implementation says nothing then): mail is never lost to it.
  std::optional<Attempt> suppressed_now(std::string_view address, TimeMs now) const {
    if (!deps.suppression || !cfg->suppression.enabled) return std::nullopt;
    auto entry = deps.suppression->find(address, now);
    if (!entry) return std::nullopt;
    return delivery::suppressed_attempt(address, *entry, now);
  }

  // The settle of suppressed recipients: marked, and never a new suppression of their own.
  awaitable<void> settle_suppressed(Job& job, delivery::RecipientAttempts& results, std::string_view dest) {
    const std::string_view no_tls;
    co_await settle(job, results, dest, no_tls, false, true);
  }

  // One settle transaction for these results and the reports they owe: the policy plans it,
  // the reports are composed, the transaction is committed (retried while the queue cannot be
  // written), then the plan's effects apply.
  // Parameters are references / views: no temporaries in co_await expressions (GCC 12 bug).
  awaitable<void> settle(Job& job, delivery::RecipientAttempts& results, std::string_view dest,
                         std::string_view tls_info = {}, bool remote_dsn = false, bool suppressed = false) {
    pace_feedback(job, results, dest);
    const delivery::BounceRules bounce{cfg->bounce.delay_warning.count(), !cfg->bounce.postmaster.empty(),
                                       cfg->suppression.enabled};
    const delivery::SettlePlan plan = delivery::plan_settle(
        settle_message(job.message), {std::move(results), tls_info, remote_dsn, suppressed}, now_ms(), retry,
        bounce, rand);
    std::vector<std::string> report_log;
    const queue::SettleRequest req = compose_settle(job, plan, report_log);
    const Result<void> recorded = co_await commit_settle(job.message.id, req);
    apply_settle(job, plan, req, report_log, static_cast<bool>(recorded), dest);
  }

  // The queue request for a plan: its results, and each planned report composed (RFC 3464) and
  // enqueued in the same transaction, so a failure and its bounce are one state change.
  queue::SettleRequest compose_settle(Job& job, const delivery::SettlePlan& plan,
                                      std::vector<std::string>& report_log) {
    queue::SettleRequest req;
    req.now_ms = plan.now_ms;
    for (const auto& r : plan.results)
      req.results.push_back({job.message.id, r.index, r.attempt, r.next_attempt_ms, r.suppressed});
    req.suppress = plan.suppressions;
    for (const auto& report : plan.reports) {
      std::optional<queue::NewMessage> m = compose_report(job, report, plan.now_ms, report_log);
      if (!m) continue;  // nothing owed after all (NOTIFY, a "<>" sender)
      req.enqueue.push_back(std::move(*m));
      if (report.kind == delivery::ReportKind::Delay) {
        req.mark_delay_warned.push_back(job.message.id);
        job.message.delay_warning_sent_ms = plan.now_ms;  // one delay warning per message
      }
    }
    report_log.insert(report_log.end(), plan.notes.begin(), plan.notes.end());
    return req;
  }

  // One report as a message from <>, with its queue id allocated now; nullopt when none is owed.
  std::optional<queue::NewMessage> compose_report(const Job& job, const delivery::ReportPlan& report,
                                                  TimeMs now, std::vector<std::string>& report_log) {
    const auto kind = dsn_kind(report.kind);
    dsn::DsnInput in;
    in.reporting_mta = deps.hostname;
    in.envelope = &job.message.envelope;
    in.original = *job.body;
    in.original_queue_id = job.message.id.str();
    in.kind = kind;
    in.recipients = report_rows(report);
    in.now_ms = now;
    in.retry_until_ms = report.retry_until_ms;
    const QueueId id = deps.store->allocate_id();
    in.unique = id.str();
    in.max_return_size = cfg->bounce.max_return_size;
    in.postmaster_address = cfg->bounce.postmaster;
    auto composed = dsn::compose(in);
    if (!composed) return std::nullopt;
    queue::NewMessage m;
    m.id = id;
    m.envelope = dsn::bounce_envelope(*composed, now);
    m.body = std::move(composed->body);
    m.envelope.size = m.body.size();
    m.first_due_ms = now;
    report_log.push_back(id.str() + ": " +
                         (composed->double_bounce ? "double bounce" : dsn::to_string(kind)) + " report for " +
                         job.message.id.str() + " to <" + composed->recipient + ">");
    return m;
  }

  // Commits the settle. Usually a failure is a full disk or map; the results must still be
  // recorded (a recipient the remote accepted must not be tried again), so the same settle is
  // retried with a backoff (1 s doubling to 10 s) while the recipients stay in flight. Only a
  // shutdown ends the wait; then the lease stays in the queue and start-up recovery retries them
  // at their lease time.
  awaitable<Result<void>> commit_settle(const QueueId& id, const queue::SettleRequest& req) {
    auto settle_op = [&req]() -> queue::CommitBatcher::Operation {
      return [req](queue::WriteTxn& t) { return t.settle(req); };
    };
    queue::CommitBatcher::Operation first_try = settle_op();  // named: GCC 12 and co_await temporaries
    auto rr = co_await commit(std::move(first_try));
    if (rr) co_return rr;
    ops::log_error(id.str() + ": cannot record delivery results: " + rr.error().message +
                   "; retrying until the queue can be written");
    std::chrono::milliseconds backoff(1000);
    int retries = 0;
    while (!rr && !stopping) {
      asio::steady_timer pause(io);
      pause.expires_after(backoff);
      co_await pause.async_wait(kNoThrow);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
      queue::CommitBatcher::Operation again = settle_op();
      rr = co_await commit(std::move(again));
      ++retries;
    }
    if (rr)
      ops::log_info(id.str() + ": delivery results recorded after " + std::to_string(retries) + " retries");
    else
      ops::log_error(id.str() +
                     ": delivery results not recorded before shutdown: the recipients are "
                     "retried after the next start (their lease is in the queue)");
    co_return rr;
  }

  // The plan's effects: the recipients leave the in-flight set and are logged whatever happened;
  // only once recorded do metrics count them, deferred ones return to the scheduler and the
  // reports are announced and scheduled.
  void apply_settle(const Job& job, const delivery::SettlePlan& plan, const queue::SettleRequest& req,
                    const std::vector<std::string>& report_log, bool recorded, std::string_view dest) {
    const QueueId id = job.message.id;
    for (const auto& r : plan.results) in_flight.erase({id, r.index});
    for (const auto& line : plan.log_lines) ops::log_info(line);
    if (!recorded) return;
    for (const auto& event : plan.metrics) count(event);
    for (const auto& r : plan.results)
      if (r.suppressed && deps.on_suppressed) deps.on_suppressed();
    if (!req.suppress.empty() && deps.on_suppressions_recorded) deps.on_suppressions_recorded(req.suppress);
    if (!stopping)
      for (const auto& s : plan.reschedules)
        add(id, s.index, job.message.envelope.recipients[s.index].address, s.due_ms);
    // Slow start: a delivery shows the destination copes with this many connections, one more
    // (the dispatcher is woken to open it now rather than at its next periodic turn).
    if (plan.delivered_any && scheduler.delivered(dest)) poke();
    for (const auto& line : report_log) ops::log_info(line);
    stats.reports += req.enqueue.size();  // DSNs queued (metrics)
    for (const auto& m : req.enqueue) message_queued(m.id);
  }

  // One settled recipient in the statistics and the metrics (failures by reply category).
  void count(const delivery::MetricEvent& event) {
    switch (event.kind) {
      case delivery::SettleEvent::Delivered:
        ++stats.delivered;
        if (deps.on_delivered) deps.on_delivered(event.delay_seconds);
        return;
      case delivery::SettleEvent::Deferred:
        ++stats.deferred;
        break;
      case delivery::SettleEvent::Expired:
        ++stats.expired;
        ++stats.bounced;
        break;
      case delivery::SettleEvent::Bounced:
        ++stats.bounced;
        break;
    }
    if (deps.on_failed) deps.on_failed(event.kind != delivery::SettleEvent::Deferred, event.category);
  }

  void message_queued(QueueId id) {
    if (stopping) return;
    auto rec = deps.store->load(id);
    if (!rec) return;
    for (const auto& r : rec->recipients)
      if (r.state == RecipientState::Pending && !r.leased)
        add(id, r.index, rec->envelope.recipients[r.index].address, r.next_attempt_ms);
    poke();
  }

  void maybe_stopped() {
    if (stopping && active == 0 && on_stopped) {
      auto done = std::move(on_stopped);
      on_stopped = nullptr;
      asio::post(io, std::move(done));
    }
  }
};

DeliveryAgent::DeliveryAgent(asio::io_context& io, DeliveryDeps deps)
    : impl_(std::make_shared<Impl>(io, std::move(deps))) {}

DeliveryAgent::~DeliveryAgent() = default;

void DeliveryAgent::reconfigure(const config::Config* config, std::vector<delivery::RouteRule> routes) {
  impl_->apply(config, std::move(routes));
  impl_->local_addresses = net::interface_addresses();  // addresses come and go (DHCP, new interfaces)
  impl_->poke();  // a shorter retry or a new route may make work due now
}

void DeliveryAgent::set_dkim(std::shared_ptr<const dkim::DkimSigner> dkim) {
  impl_->deps.dkim = std::move(dkim);
}

Result<void> DeliveryAgent::start() {
  impl_->pacer->restore(now_ms());
  impl_->last_reload = now_ms();
  impl_->due_window->reload();
  const auto& window = impl_->due_window->window();
  ops::log_info("delivery: " + std::to_string(impl_->due_window->size()) + " recipients scheduled" +
                (window.complete()
                     ? std::string()
                     : " (the soonest due of a bigger queue; the rest is read as they come due)"));
  asio::co_spawn(impl_->io, impl_->dispatch_loop(), asio::detached);
  asio::co_spawn(impl_->io, impl_->sweep_loop(), asio::detached);
  if (impl_->sts) {
    auto impl = impl_;  // the loop keeps the agent's state alive until it ends at stop()
    asio::co_spawn(
        impl_->io, [impl]() -> awaitable<void> { co_await impl->sts->refresh_loop(); }, asio::detached);
  }
  return {};
}

void DeliveryAgent::message_queued(QueueId id) { impl_->message_queued(id); }

void DeliveryAgent::queue_changed() {
  impl_->reload_wanted = true;               // the dispatcher re-reads the due window on its next turn
  impl_->unreachable.clear_all();            // the operator asks for attempts now, dead hosts included
  impl_->tls_fallback.clear_all();           // and with TLS again where a handshake once failed
  if (impl_->sts) impl_->sts->forget_all();  // `ferry sts refresh|forget` changed the policy cache
  impl_->poke();
}

void DeliveryAgent::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  auto impl = impl_;
  impl->stopping = true;
  impl->wake.cancel();
  impl->sweep_timer.cancel();
  if (impl->sts) impl->sts->stop();
  for (auto& [dest, q] : impl->idle)
    for (auto* c : q) c->timer.cancel();
  impl->on_stopped = std::move(done);
  impl->maybe_stopped();
  auto timer = std::make_shared<asio::steady_timer>(impl->io, grace);
  timer->async_wait([impl, timer](boost::system::error_code) {
    if (impl->on_stopped) {
      ops::log_warning(
          "delivery: " + std::to_string(impl->active) +
          " deliveries still running after the grace period; their leases make them retry after restart");
      auto done = std::move(impl->on_stopped);
      impl->on_stopped = nullptr;
      done();
    }
  });
}

DeliveryStats DeliveryAgent::stats() const { return impl_->stats; }

std::vector<delivery::PaceStatus> DeliveryAgent::pace_status() const { return impl_->pacer->status(); }

}  // namespace ferry::outbound
