// SettlePlan tables: delivered, deferred with the retry draw, bounced, expired at max age, the
// delay warning rule, "<>" and NOTIFY=NEVER, and a mix of all in one settle.
#include <gtest/gtest.h>

#include <ostream>

#include "mta/delivery/SettlePlan.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {
constexpr TimeMs kSec = 1000;
constexpr TimeMs kMin = 60 * kSec;
constexpr TimeMs kHour = 60 * kMin;
constexpr TimeMs kArrival = 1'700'000'000'000;

constexpr auto D = AttemptOutcome::Delivered;
constexpr auto T = AttemptOutcome::Transient;
constexpr auto P = AttemptOutcome::Permanent;
constexpr auto X = AttemptOutcome::Expired;
constexpr auto S = AttemptOutcome::Started;

RetryPolicy policy() {
  RetryPolicy p;
  p.first_ms = 5 * kMin;
  p.multiplier = 2.0;
  p.max_interval_ms = kHour;
  p.jitter = 0.1;
  p.max_age_ms = 5 * 24 * kHour;
  return p;
}

// A fixed random source that counts its draws: 0 is the lowest jitter (interval × 0.9).
struct CountingRandom {
  int draws = 0;
  RandomSource source() {
    return [this] {
      ++draws;
      return std::uint64_t{0};
    };
  }
};

Attempt remote(AttemptOutcome outcome, int code, std::string status, std::string text) {
  Attempt a;
  a.outcome = outcome;
  a.host = "mx.example.net";
  a.ip = "192.0.2.1";
  a.port = 25;
  a.code = code;
  a.status = std::move(status);
  a.reply = std::move(text);
  return a;
}

Attempt sent() { return remote(D, 250, "2.0.0", "Ok"); }
Attempt greylisted() { return remote(T, 450, "4.2.0", "Greylisted, try again later"); }
// A transient failure that is not greylisting: retried on the doubling schedule.
Attempt busy() { return remote(T, 451, "4.3.2", "System not accepting network messages"); }
Attempt unknown_user() { return remote(P, 550, "5.1.1", "User unknown"); }

struct Fixture {
  Envelope envelope;
  SettleMessage message;

  explicit Fixture(std::size_t recipients, std::string sender = "alice@example.org") {
    envelope.reverse_path = std::move(sender);
    envelope.arrival_ms = kArrival;
    for (std::size_t i = 0; i < recipients; ++i)
      envelope.recipients.push_back({"r" + std::to_string(i) + "@example.net", "", kNotifyUnspecified});
    message.queue_id = QueueId{0x1A2B};
    message.envelope = &envelope;
    message.recipients.resize(recipients);
  }
};

SettlePlan plan(const Fixture& f, RecipientAttempts results, TimeMs now,
                const BounceRules& bounce = {4 * kHour, false},
                std::string_view tls = "TLSv1.3/TLS_AES_128_GCM_SHA256", bool remote_dsn = false) {
  CountingRandom rng;
  return plan_settle(f.message, {std::move(results), tls, remote_dsn}, now, RetrySchedule(policy()), bounce,
                     rng.source());
}

const ReportPlan* find_report(const SettlePlan& p, ReportKind kind) {
  for (const auto& r : p.reports)
    if (r.kind == kind) return &r;
  return nullptr;
}
}  // namespace

// ---- one outcome per row: the queue result, the log line's status, the metric event ----

struct OutcomeCase {
  const char* name;
  Attempt attempt;
  TimeMs age;              // now - arrival
  AttemptOutcome settled;  // the outcome recorded
  SettleEvent event;
  const char* status_word;  // status= in the log line
  const char* category;     // category= in the log line
  bool failure_report;
  bool success_report;
  bool rescheduled;
};
// Rows print as their name (not as raw bytes) in test names and failures.
inline void PrintTo(const OutcomeCase& c, std::ostream* os) { *os << c.name; }

class SettleOutcomeTable : public ::testing::TestWithParam<OutcomeCase> {};

TEST_P(SettleOutcomeTable, PlansResultReportLogAndMetric) {
  const auto& c = GetParam();
  Fixture f(1);
  f.message.recipients[0].attempts = 1;
  const TimeMs now = kArrival + c.age;
  Attempt tried = c.attempt;
  tried.time_ms = now - kSec;
  const SettlePlan p = plan(f, {{0, tried}}, now);
  ASSERT_EQ(p.results.size(), 1u);
  EXPECT_EQ(p.now_ms, now);
  EXPECT_EQ(p.results[0].attempt.outcome, c.settled);
  // An expiry decided by this settle is dated now; any other attempt keeps its own time.
  const bool expires_now = c.settled == X && c.attempt.outcome != X;
  EXPECT_EQ(p.results[0].attempt.time_ms, expires_now ? now : now - kSec);
  EXPECT_EQ(p.results[0].category.category,
            std::string_view(c.category == std::string("-") ? "" : c.category));
  EXPECT_EQ(find_report(p, ReportKind::Failure) != nullptr, c.failure_report);
  EXPECT_EQ(find_report(p, ReportKind::Success) != nullptr, c.success_report);
  EXPECT_EQ(p.reschedules.size(), c.rescheduled ? 1u : 0u);
  ASSERT_EQ(p.metrics.size(), 1u);
  EXPECT_EQ(p.metrics[0].kind, c.event);
  EXPECT_DOUBLE_EQ(p.metrics[0].delay_seconds, static_cast<double>(c.age) / 1000.0);
  EXPECT_EQ(p.delivered_any, c.settled == D);
  ASSERT_EQ(p.log_lines.size(), 1u);
  EXPECT_NE(p.log_lines[0].find(std::string("status=") + c.status_word + " ("), std::string::npos)
      << p.log_lines[0];
  EXPECT_NE(p.log_lines[0].find(std::string("category=") + c.category + ","), std::string::npos)
      << p.log_lines[0];
  EXPECT_TRUE(p.notes.empty());
}

INSTANTIATE_TEST_SUITE_P(
    settle, SettleOutcomeTable,
    ::testing::Values(OutcomeCase{"delivered", sent(), 12 * kSec, D, SettleEvent::Delivered, "sent", "-",
                                  false, true, false},
                      OutcomeCase{"greylisted", greylisted(), kMin, T, SettleEvent::Deferred, "deferred",
                                  "greylisted", false, false, true},
                      OutcomeCase{"started_is_transient", remote(S, 0, "", "connection lost"), kMin, T,
                                  SettleEvent::Deferred, "deferred", "other", false, false, true},
                      OutcomeCase{"unknown_user", unknown_user(), kMin, P, SettleEvent::Bounced, "bounced",
                                  "unknown_user", true, false, false},
                      OutcomeCase{"transient_at_max_age", greylisted(), 5 * 24 * kHour, X,
                                  SettleEvent::Expired, "expired", "greylisted", true, false, false},
                      OutcomeCase{"expired_by_sweep", remote(X, 0, "4.4.7", "delivery time expired"),
                                  5 * 24 * kHour, X, SettleEvent::Expired, "expired", "service_unavailable",
                                  true, false, false}),
    [](const auto& info) { return std::string(info.param.name); });

// A recipient the session never reached has no attempt: it is deferred as an attempt made now,
// with no host and no reply, and retried with the others.
TEST(SettlePlan, RecipientWithoutAttemptIsDeferredAsAnAttemptMadeNow) {
  Fixture f(2);
  const TimeMs now = kArrival + kMin;
  const SettlePlan p = plan(f, {{0, busy()}, {1, std::nullopt}}, now);
  ASSERT_EQ(p.results.size(), 2u);
  const SettledRecipient& r = p.results[1];
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.attempt.outcome, T);
  EXPECT_EQ(r.attempt.time_ms, now);
  EXPECT_EQ(r.attempt.host, "");
  EXPECT_EQ(r.attempt.code, 0);
  EXPECT_EQ(r.attempt.tls, "") << "no connection reached it";
  EXPECT_EQ(r.next_attempt_ms, p.results[0].next_attempt_ms) << "deferred together, one retry draw";
  ASSERT_EQ(p.reschedules.size(), 2u);
  ASSERT_EQ(p.log_lines.size(), 2u);
  EXPECT_EQ(p.log_lines[1],
            "0000000000001A2B: to=<r1@example.net>, relay=none, delay=60.0, tls=none, category=other, "
            "dsn=-, status=deferred ()");
  EXPECT_EQ(p.metrics[1].kind, SettleEvent::Deferred);
}

TEST(SettlePlan, DeliveredLineIsPostfixLike) {
  Fixture f(1);
  const SettlePlan p = plan(f, {{0, sent()}}, kArrival + 12'345);
  ASSERT_EQ(p.log_lines.size(), 1u);
  EXPECT_EQ(p.log_lines[0],
            "0000000000001A2B: to=<r0@example.net>, relay=mx.example.net[192.0.2.1]:25, delay=12.3, "
            "tls=TLSv1.3/TLS_AES_128_GCM_SHA256, category=-, dsn=2.0.0, status=sent (250 2.0.0 Ok)");
  ASSERT_EQ(p.reports.size(), 1u);
  EXPECT_EQ(p.reports[0].kind, ReportKind::Success);
  ASSERT_EQ(p.reports[0].rows.size(), 1u);
  EXPECT_TRUE(p.reports[0].rows[0].relayed) << "a next hop without DSN: we owe the relayed report";
}

TEST(SettlePlan, NextHopWithDsnReportsSuccessItself) {
  Fixture f(1);
  const SettlePlan p = plan(f, {{0, sent()}}, kArrival + kSec, {4 * kHour, false}, "none", true);
  EXPECT_TRUE(p.reports.empty());
}

TEST(SettlePlan, TlsIsKeptOnlyWhenAConnectionWasMade) {
  Fixture f(2);
  Attempt dns;
  dns.outcome = T;
  dns.status = "4.4.3";
  dns.reply = "DNS lookup failed";
  const SettlePlan p = plan(f, {{0, greylisted()}, {1, dns}}, kArrival + kMin);
  EXPECT_EQ(p.results[0].attempt.tls, "TLSv1.3/TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(p.results[1].attempt.tls, "");
  EXPECT_NE(p.log_lines[1].find(", tls=none,"), std::string::npos) << p.log_lines[1];
}

// ---- the retry draw: one per attempt count, so recipients tried together stay together ----

struct DrawCase {
  const char* name;
  std::vector<std::uint32_t> attempts_so_far;  // per deferred recipient, before this attempt
  int draws;
  std::vector<TimeMs> due_after;  // now + this, per recipient
};
// Rows print as their name (not as raw bytes) in test names and failures.
inline void PrintTo(const DrawCase& c, std::ostream* os) { *os << c.name; }

class SettleRetryDrawTable : public ::testing::TestWithParam<DrawCase> {};

TEST_P(SettleRetryDrawTable, DrawsOncePerAttemptCount) {
  const auto& c = GetParam();
  Fixture f(c.attempts_so_far.size());
  RecipientAttempts results;
  for (std::uint32_t i = 0; i < c.attempts_so_far.size(); ++i) {
    f.message.recipients[i].attempts = c.attempts_so_far[i];
    results.push_back({i, busy()});
  }
  const TimeMs now = kArrival + kMin;
  CountingRandom rng;
  const SettlePlan p = plan_settle(f.message, {std::move(results), "none", false}, now,
                                   RetrySchedule(policy()), {4 * kHour, false}, rng.source());
  EXPECT_EQ(rng.draws, c.draws);
  ASSERT_EQ(p.reschedules.size(), c.due_after.size());
  for (std::size_t i = 0; i < c.due_after.size(); ++i) {
    EXPECT_EQ(p.reschedules[i].index, i);
    EXPECT_EQ(p.reschedules[i].due_ms, now + c.due_after[i]) << i;
    EXPECT_EQ(p.results[i].next_attempt_ms, now + c.due_after[i]) << i;
  }
  EXPECT_EQ(find_report(p, ReportKind::Delay), nullptr) << "too young for a delay warning";
}

// The lowest jitter (×0.9) of first × 2^(attempts − 1).
INSTANTIATE_TEST_SUITE_P(settle, SettleRetryDrawTable,
                         ::testing::Values(DrawCase{"one", {0}, 1, {270 * kSec}},
                                           DrawCase{"two_together", {0, 0}, 1, {270 * kSec, 270 * kSec}},
                                           DrawCase{"second_attempt", {1}, 1, {540 * kSec}},
                                           DrawCase{"different_counts", {0, 1}, 2, {270 * kSec, 540 * kSec}},
                                           DrawCase{"capped_at_an_hour", {9}, 1, {54 * kMin}}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- greylisting: a fixed retry delay, whatever the attempt count, never past the expiry ----

TEST(SettlePlan, GreylistedRetriesAfterTheFixedDelay) {
  struct Case {
    const char* name;
    std::uint32_t attempts_so_far;
    TimeMs age;          // now - arrival
    TimeMs greylist_ms;  // the policy's fixed delay
    TimeMs want_after;   // next attempt - now
  };
  const Case cases[] = {
      {"first attempt", 0, kMin, 5 * kMin, 5 * kMin},
      {"tenth attempt: no doubling", 9, 10 * kHour, 5 * kMin, 5 * kMin},
      {"shorter delay configured", 3, kHour, 30 * kSec, 30 * kSec},
      {"never past the expiry", 2, 5 * 24 * kHour - kMin, 5 * kMin, kMin},
  };
  for (const auto& c : cases) {
    Fixture f(2);
    f.message.recipients[0].attempts = c.attempts_so_far;
    f.message.recipients[1].attempts = c.attempts_so_far;
    RetryPolicy rp = policy();
    rp.greylist_ms = c.greylist_ms;
    const TimeMs now = kArrival + c.age;
    CountingRandom rng;
    const SettlePlan p = plan_settle(f.message, {{{0, greylisted()}, {1, busy()}}, "none", false}, now,
                                     RetrySchedule(rp), {0, false}, rng.source());
    ASSERT_EQ(p.results.size(), 2u) << c.name;
    EXPECT_EQ(p.results[0].category.category, "greylisted") << c.name;
    EXPECT_EQ(p.results[0].next_attempt_ms, now + c.want_after) << c.name;
    if (c.age < 24 * kHour)
      EXPECT_NE(p.results[1].next_attempt_ms, p.results[0].next_attempt_ms) << c.name << ": busy doubles";
  }
}

// ---- expiry keeps the last remote reply for the report ----

TEST(SettlePlan, ExpiryReportsTheLastTransientReply) {
  Fixture f(2);
  f.message.recipients[1].last = greylisted();
  const TimeMs now = kArrival + 5 * 24 * kHour;
  Attempt swept;
  swept.outcome = X;
  swept.status = "4.4.7";
  swept.reply = "delivery time expired";
  const SettlePlan p = plan(f, {{0, greylisted()}, {1, swept}}, now);
  ASSERT_EQ(p.results.size(), 2u);
  EXPECT_EQ(p.results[0].attempt.status, "4.4.7");
  EXPECT_NE(p.results[0].attempt.reply.find("last error: 450 4.2.0 Greylisted"), std::string::npos);
  const ReportPlan* failure = find_report(p, ReportKind::Failure);
  ASSERT_NE(failure, nullptr);
  ASSERT_EQ(failure->rows.size(), 2u);
  ASSERT_TRUE(failure->rows[0].last_transient);
  EXPECT_EQ(failure->rows[0].last_transient->code, 450);
  ASSERT_TRUE(failure->rows[1].last_transient) << "the sweep's expiry reports the stored last attempt";
  EXPECT_EQ(failure->rows[1].last_transient->reply, "Greylisted, try again later");
  EXPECT_TRUE(p.reschedules.empty());
}

// ---- the delay warning rule ----

struct DelayCase {
  const char* name;
  TimeMs age;
  TimeMs delay_warning_ms;
  TimeMs warned_at;  // delay_warning_sent_ms
  bool planned;
};
// Rows print as their name (not as raw bytes) in test names and failures.
inline void PrintTo(const DelayCase& c, std::ostream* os) { *os << c.name; }

class SettleDelayWarningTable : public ::testing::TestWithParam<DelayCase> {};

TEST_P(SettleDelayWarningTable, OnceAfterDelayWarning) {
  const auto& c = GetParam();
  Fixture f(2);
  f.message.delay_warning_sent_ms = c.warned_at;
  const SettlePlan p =
      plan(f, {{0, greylisted()}, {1, sent()}}, kArrival + c.age, {c.delay_warning_ms, false});
  const ReportPlan* delay = find_report(p, ReportKind::Delay);
  ASSERT_EQ(delay != nullptr, c.planned);
  if (!delay) return;
  EXPECT_EQ(p.reports.back().kind, ReportKind::Delay) << "composed after the failure and success reports";
  ASSERT_EQ(delay->rows.size(), 1u);
  EXPECT_EQ(delay->rows[0].index, 0u);
  EXPECT_EQ(delay->rows[0].category.category, "greylisted");
  EXPECT_EQ(delay->retry_until_ms, kArrival + policy().max_age_ms) << "Will-Retry-Until";
}

INSTANTIATE_TEST_SUITE_P(settle, SettleDelayWarningTable,
                         ::testing::Values(DelayCase{"young", 4 * kHour - 1, 4 * kHour, 0, false},
                                           DelayCase{"exactly_due", 4 * kHour, 4 * kHour, 0, true},
                                           DelayCase{"older", 30 * kHour, 4 * kHour, 0, true},
                                           DelayCase{"already_warned", 30 * kHour, 4 * kHour,
                                                     kArrival + 5 * kHour, false},
                                           DelayCase{"disabled", 30 * kHour, 0, 0, false}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- "<>" and NOTIFY ----

TEST(SettlePlan, FailedBounceWithoutPostmasterIsOnlyNoted) {
  Fixture f(1, "");
  const SettlePlan p = plan(f, {{0, unknown_user()}}, kArrival + kMin, {4 * kHour, false});
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0],
            "0000000000001A2B: undeliverable report (from <>) dropped: no report about a report "
            "(RFC 5321 §4.5.5); "
            "set [bounce] postmaster to receive these");
  // The composer refuses a report to "<>" itself; with a postmaster it sends the double bounce.
  EXPECT_NE(find_report(p, ReportKind::Failure), nullptr);
  EXPECT_EQ(p.metrics[0].kind, SettleEvent::Bounced);
}

TEST(SettlePlan, FailedBounceWithPostmasterIsNotNoted) {
  Fixture f(1, "");
  const SettlePlan p = plan(f, {{0, unknown_user()}}, kArrival + kMin, {4 * kHour, true});
  EXPECT_TRUE(p.notes.empty());
  EXPECT_NE(find_report(p, ReportKind::Failure), nullptr);
}

TEST(SettlePlan, DeferredBounceIsNotNoted) {
  Fixture f(1, "");
  const SettlePlan p = plan(f, {{0, greylisted()}}, kArrival + kMin, {4 * kHour, false});
  EXPECT_TRUE(p.notes.empty());
}

// NOTIFY is the composer's rule (RFC 3461 §4.1, mta/dsn): the plan still records the failure and
// lists the row; compose() finds nothing owed for NOTIFY=NEVER and no report is queued.
TEST(SettlePlan, NotifyNeverStillSettlesTheFailure) {
  Fixture f(1);
  f.envelope.recipients[0].notify = kNotifyNever;
  const SettlePlan p = plan(f, {{0, unknown_user()}}, kArrival + kMin);
  EXPECT_EQ(p.results[0].attempt.outcome, P);
  ASSERT_EQ(p.metrics.size(), 1u);
  EXPECT_EQ(p.metrics[0].kind, SettleEvent::Bounced);
  EXPECT_EQ(p.metrics[0].category, "unknown_user");
  EXPECT_TRUE(p.notes.empty());
}

// ---- a mix: every outcome in one settle ----

TEST(SettlePlan, MixOfRecipients) {
  Fixture f(4);
  f.message.recipients[3].last = greylisted();
  Attempt swept;
  swept.outcome = X;
  swept.status = "4.4.7";
  swept.reply = "delivery time expired";
  const TimeMs now = kArrival + 5 * kHour;
  const SettlePlan p = plan(f, {{0, sent()}, {1, greylisted()}, {2, unknown_user()}, {3, swept}}, now);
  ASSERT_EQ(p.results.size(), 4u);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(p.results[i].index, i) << "results keep their order";
  EXPECT_EQ(p.results[1].next_attempt_ms, now + 5 * kMin) << "greylisted: the fixed greylist delay";
  ASSERT_EQ(p.reports.size(), 3u);
  EXPECT_EQ(p.reports[0].kind, ReportKind::Failure);
  ASSERT_EQ(p.reports[0].rows.size(), 2u);
  EXPECT_EQ(p.reports[0].rows[0].index, 2u);
  EXPECT_EQ(p.reports[0].rows[0].category.category, "unknown_user");
  EXPECT_EQ(p.reports[0].rows[1].index, 3u);
  EXPECT_EQ(p.reports[1].kind, ReportKind::Success);
  EXPECT_EQ(p.reports[2].kind, ReportKind::Delay);
  ASSERT_EQ(p.reschedules.size(), 1u);
  EXPECT_EQ(p.reschedules[0].index, 1u);
  ASSERT_EQ(p.metrics.size(), 4u);
  EXPECT_EQ(p.metrics[0].kind, SettleEvent::Delivered);
  EXPECT_EQ(p.metrics[1].kind, SettleEvent::Deferred);
  EXPECT_EQ(p.metrics[1].category, "greylisted");
  EXPECT_EQ(p.metrics[2].kind, SettleEvent::Bounced);
  EXPECT_EQ(p.metrics[3].kind, SettleEvent::Expired);
  ASSERT_EQ(p.log_lines.size(), 4u);
  EXPECT_NE(p.log_lines[3].find("0000000000001A2B: to=<r3@example.net>, relay=none,"), std::string::npos)
      << p.log_lines[3];
  EXPECT_NE(p.log_lines[3].find("status=expired (4.4.7 delivery time expired)"), std::string::npos)
      << p.log_lines[3];
  EXPECT_TRUE(p.delivered_any);
}
