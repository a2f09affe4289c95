// Table tests for the pure pieces under DsnComposer: dates, folding, xtext, status selection,
// NOTIFY decisions, advice lookup, header-section parsing and text hygiene.
#include <gtest/gtest.h>

#include "mta/dsn/Advice.hpp"
#include "mta/dsn/DateTime.hpp"
#include "mta/dsn/HeaderFold.hpp"
#include "mta/dsn/Notify.hpp"
#include "mta/dsn/OriginalMessage.hpp"
#include "mta/dsn/OriginalRecipient.hpp"
#include "mta/dsn/StatusCode.hpp"
#include "mta/dsn/Text.hpp"

using namespace ferry;
using namespace ferry::dsn;

TEST(dsnDate, Rfc5322WithNumericZone) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1706781600000), "Thu, 01 Feb 2024 10:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1706781600999, 60), "Thu, 01 Feb 2024 11:00:00 +0100");
  EXPECT_EQ(rfc5322_date(1706781600000, -330), "Thu, 01 Feb 2024 04:30:00 -0530");
  EXPECT_EQ(rfc5322_date(1709164800000), "Thu, 29 Feb 2024 00:00:00 +0000");  // leap day
  EXPECT_EQ(rfc5322_date(951782400000), "Tue, 29 Feb 2000 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(4102444799000), "Thu, 31 Dec 2099 23:59:59 +0000");
  EXPECT_EQ(rfc5322_date(-1000), "Wed, 31 Dec 1969 23:59:59 +0000");
  EXPECT_EQ(rfc5322_date(0, 100 * 60), "Mon, 05 Jan 1970 03:59:00 +9959");  // clamped to 99:59
}

TEST(dsnFold, FoldsBeforeWhiteSpaceOnly) {
  EXPECT_EQ(fold_field("Status: 5.1.1"), "Status: 5.1.1");
  const std::string f =
      fold_field("Diagnostic-Code: smtp; 550 5.1.1 one two three four five six seven eight nine ten eleven");
  EXPECT_EQ(f,
            "Diagnostic-Code: smtp; 550 5.1.1 one two three four five six seven eight nine\r\n ten eleven");
  // Never right after the name, even when the first word is long.
  const std::string w(90, 'a');
  EXPECT_EQ(fold_field("X: " + w), "X: " + w);
  EXPECT_EQ(fold_field("X: " + w + " b"), "X: " + w + "\r\n b");
  // No white space for 2000 octets: broken at 998 with an inserted SP.
  const std::string huge = fold_field("X: " + std::string(2000, 'z'));
  EXPECT_EQ(huge.find("\r\n"), 998u);
  for (std::size_t s = 0, e; (e = huge.find("\r\n", s)) != std::string::npos; s = e + 2)
    EXPECT_LE(e - s, 998u);
}

TEST(dsnOrcpt, DecodesXtextOrKeepsItVerbatim) {
  EXPECT_EQ(parse_orcpt("rfc822;bob+2Bsales@example.com").address, "bob+sales@example.com");
  EXPECT_EQ(parse_orcpt("rfc822;a+3Db").address, "a=b");
  EXPECT_EQ(parse_orcpt("rfc822;a+3db").address, "a=b");  // lower-case hex is read liberally too
  EXPECT_EQ(parse_orcpt("rfc822;tail+").address, "tail+");
  EXPECT_EQ(parse_orcpt("rfc822;tail+4").address, "tail+4");
  EXPECT_EQ(parse_orcpt("rfc822; x+40y ").address, "x@y");
  const OriginalRecipient o = parse_orcpt("rfc822;Bob+2B1@Example.COM");
  EXPECT_EQ(o.type, "rfc822");
  EXPECT_EQ(o.address, "Bob+1@Example.COM");
  EXPECT_EQ(parse_orcpt("no-type@example.com").type, "rfc822");
  EXPECT_EQ(parse_orcpt("utf-8;x@y").type, "utf-8");
}

TEST(dsnStatus, Syntax) {
  for (const char* ok : {"2.0.0", "4.4.7", "5.1.10", "5.999.999", "4.7.26"})
    EXPECT_TRUE(valid_status(ok)) << ok;
  for (const char* bad : {"", "5", "5.1", "3.0.0", "5.01.1", "5.1.01", "5.1000.1", "5.1.1 ", "x.1.1", "5..1"})
    EXPECT_FALSE(valid_status(bad)) << bad;
}

TEST(dsnStatus, AgreesWithAction) {
  Attempt a;
  a.code = 550;
  EXPECT_EQ(status_for(Action::Failed, a), "5.0.0");
  a.status = "5.2.2";
  EXPECT_EQ(status_for(Action::Failed, a), "5.2.2");
  EXPECT_EQ(status_for(Action::Delayed, a), "4.2.2");
  EXPECT_EQ(status_for(Action::Delivered, a), "2.0.0");
  a = {};
  a.code = 421;
  EXPECT_EQ(status_for(Action::Failed, a), "4.0.0");
  EXPECT_EQ(status_for(Action::Delayed, a), "4.0.0");
  a = {};
  a.outcome = AttemptOutcome::Expired;
  EXPECT_EQ(status_for(Action::Failed, a), "4.4.7");
  a = {};
  a.code = 250;
  EXPECT_EQ(status_for(Action::Relayed, a), "2.0.0");
  EXPECT_EQ(status_for(Action::Failed, a), "5.0.0");
  a.status = "2.6.0";
  EXPECT_EQ(status_for(Action::Delivered, a), "2.6.0");
  EXPECT_STREQ(to_string(Action::Relayed), "relayed");
}

TEST(dsnNotify, Rfc3461Defaults) {
  const EnvelopeRecipient none{"a@b", "", kNotifyUnspecified};
  EXPECT_TRUE(wants(none, ReportKind::Failure));
  EXPECT_TRUE(wants(none, ReportKind::Delay));
  EXPECT_FALSE(wants(none, ReportKind::Delay, false));
  EXPECT_FALSE(wants(none, ReportKind::Success));
  const EnvelopeRecipient never{"a@b", "", kNotifyNever};
  for (auto k : {ReportKind::Failure, ReportKind::Delay, ReportKind::Success}) EXPECT_FALSE(wants(never, k));
  const EnvelopeRecipient sd{"a@b", "", kNotifySuccess | kNotifyDelay};
  EXPECT_FALSE(wants(sd, ReportKind::Failure));
  EXPECT_TRUE(wants(sd, ReportKind::Delay));
  EXPECT_TRUE(wants(sd, ReportKind::Success));
  const EnvelopeRecipient f{"a@b", "", kNotifyFailure};
  EXPECT_TRUE(wants(f, ReportKind::Failure));
  EXPECT_FALSE(wants(f, ReportKind::Delay));  // an explicit list excludes the default DELAY

  Envelope env;
  env.reverse_path = "s@x";
  env.recipients = {none, never, sd, f};
  const std::uint32_t all[] = {3, 0, 1, 2, 0, 9};
  EXPECT_EQ(recipients_to_report(env, ReportKind::Failure, all), (std::vector<std::uint32_t>{3, 0}));
  EXPECT_EQ(recipients_to_report(env, ReportKind::Delay, all), (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(recipients_to_report(env, ReportKind::Delay, all, false), (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(recipients_to_report(env, ReportKind::Success, all), (std::vector<std::uint32_t>{2}));
  env.reverse_path = "";
  EXPECT_TRUE(recipients_to_report(env, ReportKind::Failure, all).empty());
}

TEST(dsnAdvice, MostSpecificRowWins) {
  EXPECT_NE(advice_for("5.1.1").meaning.find("does not exist"), std::string_view::npos);
  EXPECT_NE(advice_for("5.1.10").meaning.find("null MX"), std::string_view::npos);
  EXPECT_NE(advice_for("5.1.2").meaning.find("domain"), std::string_view::npos);
  EXPECT_NE(advice_for("5.2.2").meaning.find("full"), std::string_view::npos);
  EXPECT_NE(advice_for("4.2.2").what_to_do.find("retried"), std::string_view::npos);
  EXPECT_NE(advice_for("5.3.4").meaning.find("larger"), std::string_view::npos);
  EXPECT_NE(advice_for("4.4.7").meaning.find("time allowed"), std::string_view::npos);
  EXPECT_NE(advice_for("5.7.1").meaning.find("policy"), std::string_view::npos);
  EXPECT_NE(advice_for("5.7.99").meaning.find("policy"), std::string_view::npos);
  EXPECT_NE(advice_for("4.7.1").meaning.find("greylisting"), std::string_view::npos);
  EXPECT_NE(advice_for("4.9.9").what_to_do.find("retried"), std::string_view::npos);
  EXPECT_NE(advice_for("5.9.9").meaning.find("permanently"), std::string_view::npos);
  EXPECT_FALSE(advice_for("garbage").meaning.empty());
}

TEST(dsnOriginal, HeaderSectionAndFields) {
  const std::string m =
      "Subject: a\r\n b\r\nMessage-Id:  <x@y> (comment)\r\nX: 1\r\n\r\nbody\r\n\r\nmore\r\n";
  const OriginalMessage o = split_message(m);
  EXPECT_EQ(o.header_section, "Subject: a\r\n b\r\nMessage-Id:  <x@y> (comment)\r\nX: 1\r\n");
  EXPECT_EQ(o.body, "body\r\n\r\nmore\r\n");
  EXPECT_EQ(header_value(o.header_section, "subject"), "a b");
  EXPECT_EQ(header_value(o.header_section, "MESSAGE-ID"), "<x@y> (comment)");
  EXPECT_EQ(header_value(o.header_section, "Missing"), std::nullopt);
  EXPECT_EQ(first_msg_id("<x@y> (comment)"), "<x@y>");
  EXPECT_EQ(first_msg_id("no brackets"), "");
  EXPECT_EQ(first_msg_id("<>"), "");
  EXPECT_EQ(first_msg_id("<a b@c>"), "");
  EXPECT_EQ(split_message("A: 1\r\n").body, "");
  EXPECT_EQ(split_message("A: 1\r\n").header_section, "A: 1\r\n");
  EXPECT_EQ(split_message("\r\nbody").header_section, "");
  EXPECT_EQ(split_message("A: 1\n\nbody\n").body, "body\n");  // LF-only tolerated
}

TEST(dsnText, Hygiene) {
  EXPECT_EQ(one_line("a\r\nb\tc\x01", false), "a  b c ");
  EXPECT_EQ(one_line("caf\xC3\xA9", false), "caf??");
  EXPECT_EQ(one_line("caf\xC3\xA9", true), "caf\xC3\xA9");
  EXPECT_EQ(one_line("bad \xC3 \xED\xA0\x80", true), "bad ? ???");  // truncated, surrogate
  EXPECT_EQ(normalize_crlf("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(normalize_crlf(""), "");
  const std::string longline = std::string(1200, 'q') + "\r\nshort\r\n";
  const std::string limited = limit_line_length(longline);
  EXPECT_EQ(limited, std::string(998, 'q') + "\r\n " + std::string(202, 'q') + "\r\nshort\r\n");
  EXPECT_TRUE(iequals("PostMaster@X", "postmaster@x"));
  EXPECT_FALSE(iequals("a", "ab"));
}

TEST(dsnHelpers, HeaderFieldsPrefixCutsBetweenWholeFields) {
  const std::string h = "A: 1\r\n\tfold\r\nB: 2\r\nC: 3\r\n";  // fields end at 13, 19, 25
  EXPECT_EQ(header_fields_prefix(h, 1000), h.size());
  EXPECT_EQ(header_fields_prefix(h, h.size()), h.size());
  EXPECT_EQ(header_fields_prefix(h, 24), 19u);
  EXPECT_EQ(header_fields_prefix(h, 19), 19u);
  EXPECT_EQ(header_fields_prefix(h, 18), 13u);
  EXPECT_EQ(header_fields_prefix(h, 8), 0u);  // inside the first field's continuation
  EXPECT_EQ(header_fields_prefix(h, 0), 0u);
}
