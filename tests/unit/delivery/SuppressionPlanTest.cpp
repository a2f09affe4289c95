// The suppression decisions of plan_settle (which results put their address on the list, per
// category and outcome), the failure recorded for a suppressed recipient, and the reply text.
#include <gtest/gtest.h>

#include "ferry/Suppression.hpp"
#include "mta/delivery/SettlePlan.hpp"
#include "mta/delivery/SuppressedAttempt.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {
constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kArrival = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr TimeMs kNow = kArrival + 60'000;

Attempt remote(AttemptOutcome outcome, int code, std::string status, std::string text) {
  Attempt a;
  a.outcome = outcome;
  a.host = "mx.example.net";
  a.ip = "192.0.2.1";
  a.port = 25;
  a.code = code;
  a.status = std::move(status);
  a.reply = std::move(text);
  a.time_ms = kNow;
  return a;
}

struct Fixture {
  Envelope envelope;
  SettleMessage message;
  Fixture() {
    envelope.reverse_path = "alice@example.org";
    envelope.arrival_ms = kArrival;
    envelope.recipients.push_back({"Bob@Example.NET", "", kNotifyUnspecified});
    message.queue_id = QueueId{0x1A2B};
    message.envelope = &envelope;
    message.recipients.resize(1);
    message.recipients[0].attempts = 1;
  }
};

SettlePlan plan(const Fixture& f, Attempt a, bool record = true, bool suppressed = false) {
  RetryPolicy p;
  p.first_ms = 300'000;
  p.max_interval_ms = kHour;
  p.max_age_ms = 5 * 24 * kHour;
  RecipientAttempts results{{0, std::move(a)}};
  return plan_settle(f.message, {std::move(results), "", false, suppressed}, kNow, RetrySchedule(p),
                     {4 * kHour, false, record}, [] { return std::uint64_t{0}; });
}

struct Row {
  AttemptOutcome outcome;
  int code;
  const char* status;
  const char* text;
  const char* category;  // expected category
  bool suppresses;
};

TEST(suppression_plan, DecidedByOutcomeAndCategory) {
  const AttemptOutcome P = AttemptOutcome::Permanent, T = AttemptOutcome::Transient;
  const Row rows[] = {
      {P, 550, "5.1.1", "user unknown", "unknown_user", true},
      {P, 550, "5.1.1", "<bob@example.net>: Recipient address rejected: User unknown", "unknown_user", true},
      {P, 550, "5.2.1", "mailbox disabled, not accepting messages", "mailbox_disabled", true},
      {P, 550, "5.1.2", "Host or domain name not found", "bad_domain", true},
      // Not about the address itself: never suppressed.
      {P, 552, "5.2.2", "Mailbox full", "mailbox_full", false},
      {P, 554, "5.7.1", "Service unavailable; client host blocked using zen.spamhaus.org", "blocklisted_ip",
       false},
      {P, 550, "5.7.1", "Message rejected as spam", "spam_content", false},
      {P, 554, "5.7.1", "Relay access denied", "relay_denied", false},
      // A transient "unknown user" is retried, not suppressed.
      {T, 450, "4.1.1", "user unknown, try later", "unknown_user", false},
  };
  for (const Row& row : rows) {
    Fixture f;
    SettlePlan p = plan(f, remote(row.outcome, row.code, row.status, row.text));
    ASSERT_EQ(p.results.size(), 1u);
    EXPECT_EQ(p.results[0].category.category, row.category) << row.text;
    EXPECT_EQ(suppresses(p.results[0]), row.suppresses) << row.text;
    ASSERT_EQ(p.suppressions.size(), row.suppresses ? 1u : 0u) << row.text;
    if (!row.suppresses) continue;
    const SuppressionEntry& e = p.suppressions[0];
    EXPECT_EQ(e.address, "bob@example.net");  // the key: lower-cased
    EXPECT_EQ(e.category, row.category);
    EXPECT_EQ(e.status, row.status);
    EXPECT_EQ(e.reply, std::to_string(row.code) + " " + row.status + " " + row.text);
    EXPECT_EQ(e.time_ms, kNow);
    EXPECT_EQ(e.queue_id.value, 0x1A2Bu);
    EXPECT_EQ(e.source, SuppressionSource::Bounce);
    ASSERT_FALSE(p.notes.empty());
    EXPECT_EQ(p.notes.back(), "0000000000001A2B: to=<bob@example.net>, suppressed (" +
                                  std::string(row.category) + ", dsn=" + row.status + ")");
  }
}

TEST(suppression_plan, AnExpiryIsNeverASuppression) {
  Fixture f;
  f.message.recipients[0].last = remote(AttemptOutcome::Transient, 450, "4.1.1", "user unknown");
  Attempt expired = remote(AttemptOutcome::Expired, 0, "4.4.7", "delivery time expired");
  SettlePlan p = plan(f, expired);
  EXPECT_EQ(p.results[0].attempt.outcome, AttemptOutcome::Expired);
  EXPECT_TRUE(p.suppressions.empty());
}

TEST(suppression_plan, NothingRecordedWhenDisabled) {
  Fixture f;
  SettlePlan p = plan(f, remote(AttemptOutcome::Permanent, 550, "5.1.1", "user unknown"), false);
  EXPECT_TRUE(p.suppressions.empty());
  EXPECT_EQ(p.reports.size(), 1u);  // the bounce is owed all the same
}

TEST(suppression_plan, ASuppressedFailureIsMarkedAndNeverRefreshesItsEntry) {
  Fixture f;
  SuppressionEntry entry;
  entry.category = "unknown_user";
  entry.time_ms = kArrival - 24 * kHour;
  Attempt a = suppressed_attempt("Bob@Example.NET", entry, kNow);
  SettlePlan p = plan(f, a, true, true);
  ASSERT_EQ(p.results.size(), 1u);
  EXPECT_TRUE(p.results[0].suppressed);
  EXPECT_EQ(p.results[0].attempt.outcome, AttemptOutcome::Permanent);
  // Otherwise every queued message would push the entry's time (and its expiry) forward.
  EXPECT_TRUE(p.suppressions.empty());
  ASSERT_EQ(p.reports.size(), 1u);  // the sender is told
  EXPECT_EQ(p.reports[0].kind, ReportKind::Failure);
  EXPECT_NE(p.log_lines[0].find("relay=none"), std::string::npos) << p.log_lines[0];
  EXPECT_NE(p.log_lines[0].find("status=bounced (550 5.1.1 <Bob@Example.NET>: suppressed after a hard bounce "
                                "on 2023-11-13 (unknown_user))"),
            std::string::npos)
      << p.log_lines[0];
}

TEST(suppression_text, AttemptAndRefusal) {
  SuppressionEntry e;
  e.category = "mailbox_disabled";
  e.time_ms = kArrival;
  Attempt a = suppressed_attempt("x@y.example", e, kNow);
  EXPECT_EQ(a.outcome, AttemptOutcome::Permanent);
  EXPECT_EQ(a.code, 550);
  EXPECT_EQ(a.status, "5.1.1");
  EXPECT_TRUE(a.host.empty());
  EXPECT_EQ(a.time_ms, kNow);
  EXPECT_EQ(a.reply, "<x@y.example>: suppressed after a hard bounce on 2023-11-14 (mailbox_disabled)");
  EXPECT_EQ(suppression_refusal("x@y.example", e),
            "550 5.1.1 <x@y.example>: suppressed after a hard bounce on 2023-11-14 (mailbox_disabled)");
  e.source = SuppressionSource::Manual;
  e.category = "manual";
  EXPECT_EQ(suppression_refusal("x@y.example", e),
            "550 5.1.1 <x@y.example>: suppressed by the postmaster on 2023-11-14 (manual)");
}

TEST(suppression_text, IsoDayOfATime) {
  const std::pair<TimeMs, const char*> days[] = {
      {0, "1970-01-01"},
      {86'399'999, "1970-01-01"},
      {86'400'000, "1970-01-02"},
      {951'782'400'000, "2000-02-29"},  // leap day of a century leap year
      {1'709'164'800'000, "2024-02-29"},
      {1'798'761'599'000, "2026-12-31"},
      {4'102'444'800'000, "2100-01-01"},
      {-1, "1969-12-31"},
  };
  for (auto [t, day] : days) EXPECT_EQ(suppression_day(t), day) << t;
}

TEST(suppression_text, KeyAndStoredReply) {
  EXPECT_EQ(suppression_key("Bob.Smith+X@Example.NET"), "bob.smith+x@example.net");
  EXPECT_EQ(suppression_key("J\xC3\x9CRGEN@Example.de"), "j\xC3\x9Crgen@example.de");  // UTF-8 untouched
  EXPECT_EQ(suppression_reply_text("550 a\r\nb\tc"), "550 a  b c");
  EXPECT_EQ(suppression_reply_text(std::string(1000, 'r')).size(), kMaxSuppressionReply);
}

TEST(suppression_text, EntryExpiry) {
  SuppressionEntry e;
  e.time_ms = 1000;
  EXPECT_FALSE(e.expired(1999, 1000));
  EXPECT_TRUE(e.expired(2000, 1000));
}

}  // namespace
