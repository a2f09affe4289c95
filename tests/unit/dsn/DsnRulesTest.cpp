// DsnComposer rules: when a report is owed (RFC 3461 §4.1, RFC 5321 §6.1) and which fields it may
// carry (RFC 3464 §2.2–§2.3), checked on the composed text.
#include <gtest/gtest.h>

#include <string>

#include "unit/dsn/DsnCases.hpp"

using namespace ferry;
using namespace ferry::dsn;
using namespace ferry::dsn::test;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::optional<DsnMessage> one(Envelope env, std::uint8_t notify, ReportKind kind, Attempt a) {
  env.recipients.resize(1);
  env.recipients[0].notify = notify;
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, kind);
  in.retry_until_ms = kRetryUntil;
  in.recipients.push_back({0, std::move(a), std::nullopt, false});
  return compose(in);
}

Attempt transient() { return remote(kNow, AttemptOutcome::Transient, 451, "4.3.0", "try later"); }
Attempt delivered() { return remote(kNow, AttemptOutcome::Delivered, 250, "2.0.0", "ok"); }

// The delivery-status part of a composed report.
std::string status_part(const std::string& body) {
  const std::size_t start = body.find("Reporting-MTA:");
  const std::size_t end = body.find("\r\n--=_ferry", start);
  return body.substr(start, end - start);
}

}  // namespace

TEST(dsnRules, NeverBounceABounce) {
  Envelope env = base_envelope();
  env.reverse_path = "";
  EXPECT_FALSE(one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown()));
  EXPECT_FALSE(one(env, kNotifyFailure, ReportKind::Failure, bob_unknown()));
  EXPECT_FALSE(one(env, kNotifyDelay, ReportKind::Delay, transient()));
  EXPECT_FALSE(one(env, kNotifySuccess, ReportKind::Success, delivered()));
  const std::uint32_t idx[] = {0, 1};
  EXPECT_TRUE(recipients_to_report(env, ReportKind::Failure, idx).empty());
}

TEST(dsnRules, PostmasterCopyOfAFailedBounceButNeverOfItself) {
  const Case c = case_double_bounce();
  ASSERT_TRUE(c.dsn);
  EXPECT_TRUE(c.dsn->double_bounce);
  EXPECT_EQ(c.dsn->recipient, "postmaster@ferry.test");
  EXPECT_EQ(c.dsn->reverse_path, "");

  // The postmaster copy itself failing: reported to nobody, so no loop.
  Envelope env;
  env.recipients.push_back({"Postmaster@Ferry.test", "", kNotifyNever});
  const std::string orig = "Subject: x\r\n\r\nx\r\n";
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.postmaster_address = "postmaster@ferry.test";
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  EXPECT_FALSE(compose(in));
  // Delays and successes of "<>" mail are never reported, even with a postmaster.
  env.recipients[0].address = "someone@example.com";
  in.kind = ReportKind::Delay;
  EXPECT_FALSE(compose(in));
}

TEST(dsnRules, NotifyNeverMeansNothing) {
  const Envelope env = base_envelope();
  EXPECT_FALSE(one(env, kNotifyNever, ReportKind::Failure, bob_unknown()));
  EXPECT_FALSE(one(env, kNotifyNever, ReportKind::Delay, transient()));
  EXPECT_FALSE(one(env, kNotifyNever, ReportKind::Success, delivered()));
}

TEST(dsnRules, NotifySuccessOnlyGetsNoFailureOrDelayReport) {
  const Envelope env = base_envelope();
  EXPECT_FALSE(one(env, kNotifySuccess, ReportKind::Failure, bob_unknown()));
  EXPECT_FALSE(one(env, kNotifySuccess, ReportKind::Delay, transient()));
  EXPECT_TRUE(one(env, kNotifySuccess, ReportKind::Success, delivered()));
}

TEST(dsnRules, NoNotifyMeansFailureAndConfiguredDelay) {
  const Envelope env = base_envelope();
  EXPECT_TRUE(one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown()));
  EXPECT_TRUE(one(env, kNotifyUnspecified, ReportKind::Delay, transient()));
  EXPECT_FALSE(one(env, kNotifyUnspecified, ReportKind::Success, delivered()));

  Envelope e = env;
  e.recipients.resize(1);
  const std::string orig = original_message();
  DsnInput in = base_input(e, orig, ReportKind::Delay);
  in.delay_by_default = false;
  in.recipients.push_back({0, transient(), std::nullopt, false});
  EXPECT_FALSE(compose(in));
}

TEST(dsnRules, OnlyRecipientsThatAskedAreReported) {
  Envelope env = base_envelope();
  env.recipients[0].notify = kNotifyFailure;
  env.recipients[1].notify = kNotifySuccess;
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  in.recipients.push_back({1, carol_null_mx(), std::nullopt, false});
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});  // duplicate: once
  in.recipients.push_back({7, bob_unknown(), std::nullopt, false});  // out of range: ignored
  const auto dsn = compose(in);
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->reported, (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(contains(dsn->body, "Final-Recipient: rfc822; bob@example.com"));
  EXPECT_FALSE(contains(dsn->body, "carol@nullmx.example>: failed"));
}

TEST(dsnRules, NoRecipientsNoEnvelopeNoReport) {
  const Envelope env = base_envelope();
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  EXPECT_FALSE(compose(in));
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  in.envelope = nullptr;
  EXPECT_FALSE(compose(in));
}

TEST(dsnRules, WillRetryUntilOnlyOnDelayed) {
  const Envelope env = base_envelope();
  const auto failed = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());  // retry_until set
  ASSERT_TRUE(failed);
  EXPECT_FALSE(contains(failed->body, "Will-Retry-Until"));
  const auto success = one(env, kNotifySuccess, ReportKind::Success, delivered());
  ASSERT_TRUE(success);
  EXPECT_FALSE(contains(success->body, "Will-Retry-Until"));
  const auto delayed = one(env, kNotifyDelay, ReportKind::Delay, transient());
  ASSERT_TRUE(delayed);
  EXPECT_TRUE(contains(delayed->body, "Will-Retry-Until: Tue, 06 Feb 2024 10:00:00 +0000\r\n"));
}

TEST(dsnRules, RemoteMtaOnlyWhenARemoteReplied) {
  const Envelope env = base_envelope();
  const auto local = one(env, kNotifyUnspecified, ReportKind::Failure, carol_null_mx());
  ASSERT_TRUE(local);
  EXPECT_FALSE(contains(local->body, "Remote-MTA"));
  EXPECT_TRUE(contains(local->body, "Diagnostic-Code: X-Ferry; domain does not accept mail"));

  // A connection failure names the host tried, but no remote MTA gave the diagnostic.
  Attempt refused = remote(kNow, AttemptOutcome::Transient, 0, "4.4.1", "connection refused");
  const auto delay = one(env, kNotifyUnspecified, ReportKind::Delay, refused);
  ASSERT_TRUE(delay);
  EXPECT_FALSE(contains(delay->body, "Remote-MTA"));
  EXPECT_TRUE(contains(delay->body, "Server tried:  mx.example.com [192.0.2.25]"));

  const auto remote_reply = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(remote_reply);
  EXPECT_TRUE(contains(remote_reply->body, "Remote-MTA: dns; mx.example.com\r\n"));
}

// RFC 3464 §2.3.6: Diagnostic-Code quotes the remote's reply as it came. A reply without an
// enhanced code gets a derived x.0.0 in Status:, but that code is not put into the quote.
TEST(dsnRules, DerivedStatusIsNotQuotedAsTheRemotes) {
  const Envelope env = base_envelope();
  Attempt bare = remote(kNow, AttemptOutcome::Permanent, 550, "5.0.0", "no such user here");
  bare.status_derived = true;
  const auto report = one(env, kNotifyUnspecified, ReportKind::Failure, bare);
  ASSERT_TRUE(report);
  const std::string part = status_part(report->body);
  EXPECT_TRUE(contains(part, "Status: 5.0.0\r\n")) << part;
  EXPECT_TRUE(contains(part, "Diagnostic-Code: smtp; 550 no such user here\r\n")) << part;
  EXPECT_FALSE(contains(report->body, "550 5.0.0")) << report->body;

  // The remote's own enhanced code is quoted.
  Attempt own = remote(kNow, AttemptOutcome::Permanent, 550, "5.0.0", "no such user here");
  const auto quoted = one(env, kNotifyUnspecified, ReportKind::Failure, own);
  ASSERT_TRUE(quoted);
  EXPECT_TRUE(contains(status_part(quoted->body), "Diagnostic-Code: smtp; 550 5.0.0 no such user here\r\n"));
}

TEST(dsnRules, ExpiryWithoutAReplyHasNoRemoteMta) {
  Envelope env = base_envelope();
  Attempt expired;
  expired.time_ms = kNow;
  expired.outcome = AttemptOutcome::Expired;
  expired.status = "4.4.7";
  expired.reply = "delivery time expired";
  const auto dsn = one(env, kNotifyUnspecified, ReportKind::Failure, expired);
  ASSERT_TRUE(dsn);
  const std::string s = status_part(dsn->body);
  EXPECT_TRUE(contains(s, "Action: failed\r\nStatus: 4.4.7\r\n"));
  EXPECT_FALSE(contains(s, "Remote-MTA"));
  EXPECT_FALSE(contains(s, "Last-Attempt-Date"));  // no attempt was made at expiry (§2.3.7)
  EXPECT_TRUE(contains(s, "Diagnostic-Code: X-Ferry; delivery time expired"));
}

TEST(dsnRules, OriginalEnvelopeIdOnlyWithEnvid) {
  Envelope env = base_envelope();
  const auto without = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(without);
  EXPECT_FALSE(contains(without->body, "Original-Envelope-Id"));
  EXPECT_FALSE(contains(without->body, "Original-Recipient"));
  env.envid = "abc<def>";
  const auto with = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(with);
  EXPECT_TRUE(
      contains(with->body, "\r\nOriginal-Envelope-Id: abc<def>\r\nReporting-MTA: dns; mx.ferry.test\r\n"));
}

TEST(dsnRules, StatusClassAgreesWithAction) {
  const Envelope env = base_envelope();
  struct Row {
    std::uint8_t notify;
    ReportKind kind;
    Attempt attempt;
    const char* expect;
  };
  Attempt no_status = remote(kNow, AttemptOutcome::Permanent, 554, "", "rejected");
  Attempt bad_status = remote(kNow, AttemptOutcome::Permanent, 550, "5.01.1", "leading zero");
  Attempt odd = remote(kNow, AttemptOutcome::Transient, 450, "5.2.2", "class disagrees with code");
  Attempt success_with_5 = remote(kNow, AttemptOutcome::Delivered, 250, "5.0.0", "odd server");
  Attempt nothing;
  const Row rows[] = {
      {kNotifyUnspecified, ReportKind::Failure, no_status, "Action: failed\r\nStatus: 5.0.0\r\n"},
      {kNotifyUnspecified, ReportKind::Failure, bad_status, "Action: failed\r\nStatus: 5.0.0\r\n"},
      {kNotifyUnspecified, ReportKind::Delay, odd, "Action: delayed\r\nStatus: 4.2.2\r\n"},
      {kNotifyUnspecified, ReportKind::Delay, nothing, "Action: delayed\r\nStatus: 4.0.0\r\n"},
      {kNotifyUnspecified, ReportKind::Failure, nothing, "Action: failed\r\nStatus: 5.0.0\r\n"},
      {kNotifySuccess, ReportKind::Success, success_with_5, "Action: delivered\r\nStatus: 2.0.0\r\n"},
  };
  for (const Row& r : rows) {
    const auto dsn = one(env, r.notify, r.kind, r.attempt);
    ASSERT_TRUE(dsn);
    EXPECT_TRUE(contains(dsn->body, r.expect)) << r.expect << "\n" << dsn->body;
  }
}

TEST(dsnRules, NoDiagnosticOrDateWhenNothingIsKnown) {
  const auto dsn = one(base_envelope(), kNotifyUnspecified, ReportKind::Delay, Attempt{});
  ASSERT_TRUE(dsn);
  const std::string s = status_part(dsn->body);
  EXPECT_FALSE(contains(s, "Diagnostic-Code"));
  EXPECT_FALSE(contains(s, "Last-Attempt-Date"));
  EXPECT_FALSE(contains(s, "Remote-MTA"));
}

TEST(dsnRules, HeadersOfTheReport) {
  const Case c = case_failed();
  ASSERT_TRUE(c.dsn);
  const std::string& b = c.dsn->body;
  EXPECT_TRUE(b.starts_with(
      "From: Mail Delivery System <MAILER-DAEMON@mx.ferry.test>\r\nTo: <alice@example.org>\r\n"));
  EXPECT_TRUE(contains(b, "\r\nAuto-Submitted: auto-replied\r\n"));
  EXPECT_TRUE(contains(b, "\r\nMessage-ID: <01HQ8BOUNCE42@mx.ferry.test>\r\n"));
  EXPECT_TRUE(contains(b, "\r\nDate: Thu, 01 Feb 2024 13:00:00 +0000\r\n"));
  EXPECT_EQ(c.dsn->reverse_path, "");
  EXPECT_EQ(c.dsn->recipient, "alice@example.org");
  EXPECT_FALSE(c.dsn->smtputf8);
  EXPECT_EQ(c.dsn->body_type, BodyType::SevenBit);
}

TEST(dsnRules, SourceRouteIsStrippedToTheFinalHop) {
  Envelope env = base_envelope();
  env.reverse_path = "@relay.example,@other.example:alice@example.org";
  const auto dsn = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->recipient, "alice@example.org");
  EXPECT_TRUE(contains(dsn->body, "\r\nTo: <alice@example.org>\r\n"));
}

TEST(dsnRules, RetHeadersByDefaultAndFullOnRequest) {
  Envelope env = base_envelope();
  auto dsn = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "Content-Type: text/rfc822-headers\r\n"));
  EXPECT_FALSE(contains(dsn->body, "the figures are attached in spirit"));
  env.ret = DsnRet::Full;
  dsn = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "Content-Type: message/rfc822\r\n"));
  EXPECT_TRUE(contains(dsn->body, "the figures are attached in spirit"));
  // A binary original never comes back whole.
  env.body_type = BodyType::BinaryMime;
  dsn = one(env, kNotifyUnspecified, ReportKind::Failure, bob_unknown());
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "Content-Type: text/rfc822-headers\r\n"));
}

// RFC 8689 §5: the report of a REQUIRETLS message returns its header section only, even when
// RET=FULL asked for the whole message, and the failed condition is in the diagnostic.
TEST(dsnRules, RequireTlsMessageComesBackAsHeadersOnly) {
  Envelope env = base_envelope();
  env.ret = DsnRet::Full;
  env.require_tls = true;
  Attempt a = remote(kNow, AttemptOutcome::Permanent, 0, "5.7.30",
                     "REQUIRETLS support required: the next hop does not advertise REQUIRETLS");
  auto dsn = one(env, kNotifyUnspecified, ReportKind::Failure, a);
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "Content-Type: text/rfc822-headers\r\n"));
  EXPECT_FALSE(contains(dsn->body, "Content-Type: message/rfc822\r\n"));
  EXPECT_FALSE(contains(dsn->body, "the figures are attached in spirit"));
  EXPECT_TRUE(contains(dsn->body, "Status: 5.7.30"));
  EXPECT_TRUE(contains(dsn->body, "REQUIRETLS support required: the next hop does not")) << dsn->body;
}

TEST(dsnRules, TruncationKeepsHeadersWholeAndCutsAtALine) {
  const Case c = case_ret_full_truncated();
  ASSERT_TRUE(c.dsn);
  const std::string& b = c.dsn->body;
  EXPECT_TRUE(contains(b, "shortened to its first"));
  EXPECT_TRUE(contains(b, "Line 4 of a long body that will not all come back.\r\n\r\n--=_ferry"));
  EXPECT_FALSE(contains(b, "Line 5 of"));

  // A cap smaller than the header section cuts the header section too (at a field boundary).
  Envelope env = base_envelope();
  env.recipients.resize(1);
  env.ret = DsnRet::Full;
  const std::string orig = long_original();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.max_return_size = 10;
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  const auto tiny = compose(in);
  ASSERT_TRUE(tiny);
  EXPECT_FALSE(contains(tiny->body, "Content-Type: text/plain; charset=us-ascii\r\n\r\n\r\n--=_ferry"));
  EXPECT_TRUE(contains(tiny->body, "Content-Description: Undelivered message headers (truncated)\r\n"));
  EXPECT_FALSE(contains(tiny->body, "Hello Bob"));
}

// An all-header message (3 MB of header fields) returns at most max_return_size of them, for
// RET=HDRS and RET=FULL alike, cut after a complete field; the report says so and stays MIME.
TEST(dsnRules, ReturnedHeadersAreCappedToo) {
  std::string orig = "Subject: many headers\r\n";
  for (int i = 0; orig.size() < (3u << 20); ++i)
    orig += "X-Filler-" + std::to_string(i) + ": " + std::string(60, 'f') + "\r\n\tcontinued " +
            std::to_string(i) + "\r\n";
  for (DsnRet ret : {DsnRet::Hdrs, DsnRet::Full}) {
    Envelope env = base_envelope();
    env.recipients.resize(1);
    env.ret = ret;
    DsnInput in = base_input(env, orig, ReportKind::Failure);
    in.max_return_size = 64 * 1024;
    in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
    const auto dsn = compose(in);
    ASSERT_TRUE(dsn);
    const std::string& b = dsn->body;
    EXPECT_LT(b.size(), in.max_return_size + 16 * 1024) << "composed " << b.size() << " octets";
    EXPECT_TRUE(contains(b, "Content-Description: Undelivered message headers (truncated)\r\n"));
    EXPECT_TRUE(contains(b, "too long to return whole"));
    EXPECT_TRUE(contains(b, "Content-Type: text/rfc822-headers\r\n"));
    // Cut at a field boundary: the last returned line is a continuation that ends its field.
    const std::size_t end = b.rfind("\r\n\r\n--=_ferry");  // the end of the returned part
    ASSERT_NE(end, std::string::npos);
    const std::size_t last = b.rfind("\r\n", end - 1);
    EXPECT_EQ(b.substr(last + 2, 11), "\tcontinued ") << b.substr(last, 80);
    EXPECT_TRUE(b.ends_with("--\r\n"));  // the closing boundary (RFC 2046 §5.1.1)
  }
}

TEST(dsnRules, EightBitOriginalMakesAnEightBitReport) {
  Envelope env = base_envelope();
  env.ret = DsnRet::Full;
  env.body_type = BodyType::EightBitMime;
  env.recipients.resize(1);
  const std::string orig = "Subject: caf\xC3\xA9 body only\r\n\r\nna\xC3\xAFve\r\n";
  // The Subject is non-ASCII, so this is a global report.
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  auto dsn = compose(in);
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->body_type, BodyType::EightBitMime);
  EXPECT_FALSE(dsn->smtputf8);  // sender and our headers are ASCII: 8BITMIME suffices (RFC 6533)
  EXPECT_TRUE(contains(dsn->body, "report-type=global-delivery-status"));
  EXPECT_TRUE(contains(dsn->body, "Content-Type: message/global\r\nContent-Transfer-Encoding: 8bit\r\n"));

  // ASCII headers, 8-bit body: a plain report whose returned part is 8bit.
  const std::string plain = "Subject: body only\r\n\r\nna\xC3\xAFve\r\n";
  in.original = plain;
  dsn = compose(in);
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "report-type=delivery-status;"));
  EXPECT_TRUE(contains(dsn->body, "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n"));
  EXPECT_TRUE(contains(dsn->body, "\r\nContent-Transfer-Encoding: 8bit\r\n\r\nThis is a MIME"));
  EXPECT_EQ(dsn->body_type, BodyType::EightBitMime);
}

TEST(dsnRules, NonAsciiReplyIsKeptOutOfAPlainReport) {
  Attempt a = remote(kNow, AttemptOutcome::Permanent, 550, "5.1.1", "Benutzer unbekannt \xC3\xBC\r\x01");
  const auto dsn = one(base_envelope(), kNotifyUnspecified, ReportKind::Failure, a);
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "Diagnostic-Code: smtp; 550 5.1.1 Benutzer unbekannt ??\r\n"));
  EXPECT_TRUE(contains(dsn->body, "report-type=delivery-status;"));
  EXPECT_EQ(dsn->body_type, BodyType::SevenBit);
}

TEST(dsnRules, LongDiagnosticsAreFoldedNotCut) {
  const std::string word(1500, 'x');
  Attempt a =
      remote(kNow, AttemptOutcome::Permanent, 550, "5.7.1", "blocked " + word + " see https://host.test");
  const auto dsn = one(base_envelope(), kNotifyUnspecified, ReportKind::Failure, a);
  ASSERT_TRUE(dsn);
  std::size_t start = 0;
  while (start < dsn->body.size()) {
    const std::size_t end = dsn->body.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
  // Unfolding gives the reply back (the over-long word is broken with an inserted space).
  const std::string s = status_part(dsn->body);
  const std::size_t d = s.find("Diagnostic-Code: ");
  std::string unfolded;
  for (std::size_t i = d; i < s.size(); ++i) {
    if (s.compare(i, 2, "\r\n") == 0) {
      if (i + 2 < s.size() && (s[i + 2] == ' ' || s[i + 2] == '\t')) {
        i += 1;
        continue;
      }
      break;
    }
    unfolded += s[i];
  }
  EXPECT_TRUE(contains(unfolded, "Diagnostic-Code: smtp; 550 5.7.1 blocked xxx"));
  EXPECT_TRUE(contains(unfolded, " see https://host.test"));
  std::string xs;
  for (char ch : unfolded)
    if (ch == 'x') xs += ch;
  EXPECT_EQ(xs.size(), 1500u);
}

TEST(dsnRules, BoundaryNeverOccursInTheContent) {
  Envelope env = base_envelope();
  env.ret = DsnRet::Full;
  env.recipients.resize(1);
  const std::string orig = "Subject: trap\r\n\r\n--=_ferry_01HQ8BOUNCE42\r\n--=_ferry_01HQ8BOUNCE42_1--\r\n";
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  const auto dsn = compose(in);
  ASSERT_TRUE(dsn);
  EXPECT_TRUE(contains(dsn->body, "boundary=\"=_ferry_01HQ8BOUNCE42_2\""));
}

TEST(dsnRules, BounceEnvelopeIsNullSenderNotifyNever) {
  const Case c = case_smtputf8();
  ASSERT_TRUE(c.dsn);
  EXPECT_TRUE(c.dsn->smtputf8);
  const Envelope e = bounce_envelope(*c.dsn, kNow);
  EXPECT_TRUE(e.is_bounce());
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.recipients[0].address, "jörg@bücher.example");
  EXPECT_EQ(e.recipients[0].notify, kNotifyNever);
  EXPECT_TRUE(e.smtputf8);
  EXPECT_EQ(e.body_type, BodyType::EightBitMime);
  EXPECT_EQ(e.arrival_ms, kNow);
  EXPECT_EQ(e.size, c.dsn->body.size());
  // The report's own Message-ID travels in the envelope, so its delivery events can name it.
  ASSERT_FALSE(e.message_id.empty());
  EXPECT_EQ(e.message_id, c.dsn->message_id);
  EXPECT_TRUE(contains(c.dsn->body, "Message-ID: <" + e.message_id + ">\r\n")) << c.dsn->body.substr(0, 600);
}

// The reply's classification is shown in the human-readable part and as the
// X-Ferry-Category extension field (RFC 3464 §2.4) of failed and delayed recipients only.
TEST(dsnRules, CategoryAndAdviceAreShownForFailuresAndDelays) {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  RecipientReport r{0, bob_unknown(), std::nullopt, false};
  r.category = "blocklisted_ip";
  r.category_detail = "Spamhaus";
  r.category_advice = "The sending IP is on a blocklist: request delisting.";
  in.recipients.push_back(r);
  auto failed = compose(in);
  ASSERT_TRUE(failed);
  EXPECT_TRUE(contains(failed->body, "\r\n  Category:      blocklisted_ip (Spamhaus)\r\n")) << failed->body;
  EXPECT_TRUE(
      contains(failed->body, "\r\n  Advice:        The sending IP is on a blocklist: request delisting.\r\n"))
      << failed->body;
  EXPECT_TRUE(contains(status_part(failed->body), "\r\nX-Ferry-Category: blocklisted_ip\r\n"))
      << failed->body;

  in.kind = ReportKind::Delay;
  in.recipients[0].attempt = transient();
  in.recipients[0].category = "greylisted";
  in.recipients[0].category_detail.clear();
  auto delayed = compose(in);
  ASSERT_TRUE(delayed);
  EXPECT_TRUE(contains(delayed->body, "Category:      greylisted\r\n")) << delayed->body;
  EXPECT_TRUE(contains(status_part(delayed->body), "X-Ferry-Category: greylisted")) << delayed->body;

  in.recipients[0].category.clear();
  auto plain = compose(in);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(contains(plain->body, "Category:"));
  EXPECT_FALSE(contains(plain->body, "X-Ferry-Category"));
}
