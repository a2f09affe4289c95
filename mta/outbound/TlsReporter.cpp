// TlsReporter: see TlsReporter.hpp.
#include "mta/outbound/TlsReporter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <random>

#include "mta/delivery/TlsReportMail.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/HttpsPost.hpp"
#include "mta/ops/Log.hpp"

namespace ferry::outbound {

namespace asio = boost::asio;
using asio::awaitable;
using Policies = std::vector<std::pair<delivery::TlsPolicyRef, delivery::TlsCounts>>;

namespace {

constexpr TimeMs kDayMs = 86'400'000;

// A plain function returning the awaitable (GCC 12 mishandles by-value coroutine parameters
// moved into lambda captures).
auto commit(queue::CommitBatcher& batcher, asio::any_io_executor ex, queue::CommitBatcher::Operation op) {
  return net::completion_on<Result<void>>(std::move(ex), [&batcher, op = std::move(op)](auto done) mutable {
    batcher.submit(std::move(op), std::move(done));
  });
}

std::vector<queue::TlsReportRecord> to_records(
    std::map<delivery::TlsReportBook::Key, delivery::TlsCounts> book) {
  std::vector<queue::TlsReportRecord> out;
  for (auto& [key, counts] : book) {
    queue::TlsReportRecord r;
    r.day = static_cast<std::uint32_t>(key.first);
    r.policy_domain = key.second.domain;
    r.policy = delivery::encode_policy(key.second);
    r.successes = counts.successes;
    r.failures = counts.failures;
    for (const auto& [detail, n] : counts.details) r.details.emplace_back(delivery::encode_detail(detail), n);
    out.push_back(std::move(r));
  }
  return out;
}

// The stored records of one day, decoded and grouped by policy domain (undecodable ones are
// skipped: the queue quarantines them when the day is deleted).
std::map<std::string, Policies> group_by_domain(const std::vector<queue::TlsReportRecord>& records) {
  std::map<std::string, Policies> out;
  for (const auto& r : records) {
    auto policy = delivery::decode_policy(r.policy);
    if (!policy) continue;
    delivery::TlsCounts counts;
    counts.successes = r.successes;
    for (const auto& [key, n] : r.details)
      if (auto d = delivery::decode_detail(key)) counts.add_failure(*d, n);
    if (r.failures > counts.failures) counts.failures = r.failures;  // beyond the kept rows
    out[r.policy_domain].emplace_back(std::move(*policy), std::move(counts));
  }
  return out;
}

}  // namespace

TlsReporter::TlsReporter(asio::io_context& io, TlsReporterDeps deps)
    : io_(io), deps_(std::move(deps)), timer_(io) {}

void TlsReporter::record(const delivery::TlsOutcome& outcome) {
  const config::Config* cfg = deps_.config();
  if (cfg && cfg->tls_report.enabled) book_.add(outcome);
}

awaitable<void> TlsReporter::flush() {
  if (book_.empty()) co_return;
  auto records = std::make_shared<std::vector<queue::TlsReportRecord>>(to_records(book_.take()));
  queue::CommitBatcher::Operation op = [records](queue::WriteTxn& t) { return t.add_tls_reports(*records); };
  auto wait = commit(*deps_.batcher, io_.get_executor(), std::move(op));
  const Result<void> done = co_await std::move(wait);
  if (!done) ops::log_warning("tlsrpt: cannot store TLS report counters: " + done.error().message);
}

queue::NewMessage TlsReporter::report_message(const std::string& to, const std::string& body, TimeMs now) {
  queue::NewMessage m;
  m.id = deps_.store->allocate_id();
  // RFC 8460 §5.3 leaves the envelope sender open; <> means no bounce can ever answer a report
  // (RFC 5321 §4.5.5), so two reporters can never loop.
  m.envelope.reverse_path = "";
  m.envelope.recipients.push_back({to, "", kNotifyNever});
  m.envelope.body_type = BodyType::SevenBit;  // base64 and ASCII text only
  m.envelope.client = {"", deps_.hostname, "", "local"};
  m.envelope.arrival_ms = now;
  m.body = body;
  m.envelope.size = m.body.size();
  m.first_due_ms = now;
  return m;
}

// Looks up the domain's `_smtp._tls` record and composes one report mail per mailto: address.
awaitable<void> TlsReporter::send_domain(std::int64_t day, const std::string& domain,
                                         const Policies& policies, std::vector<queue::NewMessage>& out) {
  const std::string name = "_smtp._tls." + domain;
  const net::TxtAnswer answer = co_await net::resolve_txt(*deps_.resolver, io_.get_executor(), name);
  if (answer.status != net::DnsStatus::Ok) {
    ops::log_info("tlsrpt: " + domain + ": no report for " + delivery::day_text(day) + " (no " + name +
                  " record" + (answer.error.empty() ? std::string() : ": " + answer.error) + ")");
    co_return;
  }
  const auto uris = delivery::select_tlsrpt_record(answer.records);
  if (!uris) {
    ops::log_info("tlsrpt: " + domain + ": no report for " + delivery::day_text(day) + " (" + uris.error() +
                  ")");
    co_return;
  }
  const config::Config& cfg = *deps_.config();
  const TimeMs now = deps_.clock();
  const std::string report_id = delivery::day_text(day) + "." + domain + "@" + deps_.hostname;
  const std::string json = delivery::compose_tls_report_json(
      {cfg.tls_report.organization, cfg.tls_report.contact, report_id, day}, policies);
  const std::string from =
      cfg.tls_report.from.empty() ? "noreply-smtp-tls-reporting@" + deps_.hostname : cfg.tls_report.from;
  for (const auto& uri : *uris) {
    if (uri.kind == delivery::TlsReportUri::Kind::Https) {
      co_await post_report(domain, uri.target, json);
      continue;
    }
    delivery::TlsReportMail mail{
        from, uri.target, deps_.hostname, domain, report_id, day, cfg.tls_report.organization, json};
    out.push_back(report_message(uri.target, delivery::compose_tls_report_mail(mail, now), now));
    ops::log_info(out.back().id.str() + ": TLS report for " + domain + " (" + delivery::day_text(day) +
                  ") to <" + uri.target + ">");
  }
}

// RFC 8460 §5.2: the gzip report POSTed as application/tlsrpt+gzip; any 2xx is a success. The
// server's certificate must verify for the URL's host: the report says how our TLS fares, and
// may not go to whoever answers instead.
awaitable<void> TlsReporter::post_report(const std::string& domain, const std::string& target,
                                         const std::string& json) {
  const auto url = net::parse_https_url(target);
  if (!url) {
    ops::log_info("tlsrpt: " + domain + ": skipped the unusable URI " + target);
    co_return;
  }
  if (!https_context_) {
    auto ctx = net::make_client_tls_context(true);
    if (!ctx) {
      ops::log_warning("tlsrpt: no TLS context for https reports: " + ctx.error().message);
      co_return;
    }
    https_context_ = *ctx;
  }
  const std::string content_type = "application/tlsrpt+gzip";
  const std::string gz = delivery::gzip_stored(json);
  const Result<int> posted = co_await net::https_post(*deps_.resolver, io_.get_executor(), *https_context_,
                                                      *url, content_type, gz, std::chrono::seconds(30));
  if (!posted)
    ops::log_warning("tlsrpt: " + domain + ": POST to " + target + " failed: " + posted.error().message);
  else
    ops::log_info("tlsrpt: " + domain + ": POST to " + target + ": HTTP " + std::to_string(*posted) +
                  (*posted / 100 == 2 ? "" : " (not accepted)"));
}

awaitable<void> TlsReporter::send_day(std::int64_t day) {
  // One send at a time: two would read the same counters before either deleted them.
  if (sending_) {
    ops::log_info("tlsrpt: reports are being sent already; " + delivery::day_text(day) + " not sent now");
    co_return;
  }
  sending_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done_sending{sending_};
  co_await flush();
  const auto stored = deps_.store->tls_reports(static_cast<std::uint32_t>(day));
  if (!stored) {
    ops::log_warning("tlsrpt: cannot read the counters of " + delivery::day_text(day) + ": " +
                     stored.error().message);
    co_return;
  }
  const auto domains = group_by_domain(*stored);
  auto messages = std::make_shared<std::vector<queue::NewMessage>>();
  for (const auto& [domain, policies] : domains) co_await send_domain(day, domain, policies, *messages);
  // The reports and the deletion of their counters commit together.
  const auto day32 = static_cast<std::uint32_t>(day);
  const TimeMs now = deps_.clock();
  queue::CommitBatcher::Operation op = [messages, day32, now](queue::WriteTxn& t) -> Result<void> {
    for (const auto& m : *messages)
      if (auto r = t.enqueue(m); !r) return r;
    return t.delete_tls_reports(day32, now);
  };
  auto wait = commit(*deps_.batcher, io_.get_executor(), std::move(op));
  const Result<void> done = co_await std::move(wait);
  if (!done) {
    ops::log_warning("tlsrpt: cannot queue the reports of " + delivery::day_text(day) + ": " +
                     done.error().message + " (kept for the next attempt)");
    co_return;
  }
  for (const auto& m : *messages) deps_.on_queued(m.id);
  ops::log_info("tlsrpt: " + delivery::day_text(day) + ": " + std::to_string(messages->size()) +
                " report(s) queued for " + std::to_string(domains.size()) + " domain(s)");
}

awaitable<void> TlsReporter::run() {
  std::mt19937_64 rng(std::random_device{}());
  const TimeMs jitter = std::uniform_int_distribution<TimeMs>(60'000, 3'600'000)(rng);
  while (!stopping_) {
    timer_.expires_after(std::chrono::minutes(1));
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;  // cancelled by stop(), or the minute passed: stopping_ says which
    if (stopping_) break;
    co_await flush();
    const config::Config* cfg = deps_.config();
    const TimeMs now = deps_.clock();
    const std::int64_t today = delivery::utc_day(now);
    if (!cfg || !cfg->tls_report.enabled || now - today * kDayMs < jitter || sent_through_ >= today - 1)
      continue;
    const auto days = deps_.store->tls_report_days();
    if (days)
      for (std::uint32_t d : *days)
        if (static_cast<std::int64_t>(d) < today && !stopping_) co_await send_day(d);
    sent_through_ = today - 1;
  }
  co_await flush();  // what the last minute counted
}

void TlsReporter::stop() {
  stopping_ = true;
  timer_.cancel();
}

}  // namespace ferry::outbound
