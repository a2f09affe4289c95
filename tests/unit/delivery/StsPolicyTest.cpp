// StsPolicy: the `_mta-sts` TXT record (RFC 8461 §3.1), the policy file (§3.2) with the RFC's
// examples and malformed input, MX matching (§4.1) and the cache's decisions (§3.3, §5.1).
#include "mta/delivery/StsPolicy.hpp"

#include <gtest/gtest.h>

using namespace ferry::delivery;

namespace {

RandomSource zero() {
  return [] { return std::uint64_t{0}; };
}

TEST(StsRecord, OneValidRecordGivesItsId) {
  struct Case {
    std::vector<std::string> records;
    std::optional<std::string> id;
  };
  const Case cases[] = {
      {{"v=STSv1; id=20160831085700Z;"}, "20160831085700Z"},  // RFC 8461 §3.1 example
      {{"v=STSv1; id=abc"}, "abc"},
      {{"v=STSv1 ;id=abc ; "}, "abc"},
      {{"v=STSv1; id=abc; ext_1=value"}, "abc"},           // extensions ignored
      {{"v=spf1 -all", "v=STSv1; id=abc"}, "abc"},         // other TXT data ignored
      {{"v=STSv1; id=a", "v=STSv1; id=b"}, std::nullopt},  // two records: none
      {{}, std::nullopt},
      {{"v=STSv1;"}, std::nullopt},  // id is required
      {{"v=STSv1; id="}, std::nullopt},
      {{"v=STSv1; id=abc-def"}, std::nullopt},                  // id is ALPHA / DIGIT
      {{"v=STSv1; id=" + std::string(33, 'a')}, std::nullopt},  // at most 32
      {{"v=STSv1; id=a; id=b"}, std::nullopt},
      {{"v=STSv1; id=a;; x=y"}, std::nullopt},
      {{"v=STSv1; id=a; bad"}, std::nullopt},
      {{"v=STSv10; id=a"}, std::nullopt},
      {{"id=a; v=STSv1"}, std::nullopt},  // the version comes first
  };
  for (const auto& c : cases)
    EXPECT_EQ(parse_sts_record(c.records), c.id) << ::testing::PrintToString(c.records);
}

TEST(StsPolicyFile, RfcExampleParses) {
  const auto p = parse_sts_policy(
      "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
      "mx: backupmx.example.com\r\nmax_age: 604800\r\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::Enforce);
  EXPECT_EQ(p->max_age, 604800u);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net", "backupmx.example.com"}));
}

TEST(StsPolicyFile, LfLinesUnknownKeysAndCaseOfMx) {
  const auto p = parse_sts_policy("version: STSv1\nmode:testing\nfoo: bar\nmx: MX.Example.COM.\nmax_age: 0");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::Testing);
  EXPECT_EQ(p->max_age, 0u);
  EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.com"});
}

TEST(StsPolicyFile, ModeNoneNeedsNoMx) {
  const auto p = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::None);
}

TEST(StsPolicyFile, MalformedPoliciesAreRefusedWithAReason) {
  struct Case {
    std::string text;
    std::string reason;
  };
  const Case cases[] = {
      {"mode: enforce\nmx: a.example\nmax_age: 1\n", "no version"},
      {"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not STSv1"},
      {"version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode"},
      {"version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "unknown mode"},
      {"version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "above"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "not a number"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n", "not a number"},
      {"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx"},
      {"version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "mx \"a..example\""},
      {"version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", "mx \"*\""},
      {"version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", "mx \"a.*.example\""},
      {"version: STSv1\nbroken line\n", "without"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n" + std::string(65 * 1024, '#'), "64 KiB"},
  };
  for (const auto& c : cases) {
    const auto p = parse_sts_policy(c.text);
    ASSERT_FALSE(p) << c.text;
    EXPECT_NE(p.error().find(c.reason), std::string::npos) << p.error();
  }
}

TEST(StsMx, WildcardMatchesExactlyOneLeftmostLabel) {
  struct Case {
    const char* pattern;
    const char* host;
    bool match;
  };
  const Case cases[] = {
      {"mail.example.com", "mail.example.com", true},
      {"mail.example.com", "MAIL.Example.com.", true},
      {"mail.example.com", "mail2.example.com", false},
      {"*.example.net", "mx1.example.net", true},  // RFC 8461 §4.1
      {"*.example.net", "example.net", false},
      {"*.example.net", "a.b.example.net", false},
      {"*.example.net", ".example.net", false},
      {"*.example.net", "mx1.example.net.evil", false},
      {"*.example.net", "mx1example.net", false},
      {"", "mx.example.net", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(sts_matches_mx(c.pattern, c.host), c.match) << c.pattern << " " << c.host;
  StsPolicy p;
  p.mx = {"mx.a.example", "*.b.example"};
  EXPECT_TRUE(sts_policy_allows(p, "x.b.example"));
  EXPECT_FALSE(sts_policy_allows(p, "mx.c.example"));
}

TEST(StsCache, DecisionsFollowTheIdAndExpiry) {
  StsCached c;
  c.id = "one";
  c.expires_ms = 1000;
  const std::optional<StsCached> cached = c;
  struct Case {
    std::optional<StsCached> cached;
    std::optional<std::string> txt;
    bool absent;
    ferry::TimeMs now;
    StsAction want;
  };
  const Case cases[] = {
      {std::nullopt, std::nullopt, true, 0, StsAction::NoPolicy},
      {std::nullopt, std::nullopt, false, 0, StsAction::NoPolicy},
      {std::nullopt, "one", false, 0, StsAction::Fetch},
      {cached, "one", false, 10, StsAction::UseCached},
      {cached, "two", false, 10, StsAction::Fetch},             // the id changed: re-fetch
      {cached, "one", false, 1000, StsAction::Fetch},           // expired
      {cached, std::nullopt, true, 10, StsAction::UseCached},   // record removed: cache holds
      {cached, std::nullopt, false, 10, StsAction::UseCached},  // lookup failed: cache holds
      {cached, std::nullopt, true, 1000, StsAction::NoPolicy},
  };
  for (const auto& k : cases) EXPECT_EQ(sts_decide(k.cached, k.txt, k.absent, k.now), k.want);
}

TEST(StsCache, FetchSetsExpiryAndRefreshBeforeIt) {
  StsPolicy p;
  p.max_age = 604800;
  const StsCached c = sts_after_fetch("id1", "text", p, 1000, zero());
  EXPECT_EQ(c.expires_ms, 1000 + 604800LL * 1000);
  EXPECT_EQ(c.next_refresh_ms, 1000 + 24LL * 3600 * 1000);  // half of max_age, at most a day
  EXPECT_EQ(c.failures, 0u);
  p.max_age = 3600;
  EXPECT_EQ(sts_after_fetch("id1", "text", p, 0, zero()).next_refresh_ms, 1800LL * 1000);
  const StsCached jittered = sts_after_fetch("id1", "t", p, 0, [] { return ~std::uint64_t{0}; });
  EXPECT_LT(jittered.next_refresh_ms, 1800LL * 1000);
  EXPECT_GE(jittered.next_refresh_ms, 1620LL * 1000);
}

TEST(StsCache, FailureKeepsThePolicyAndBacksOff) {
  StsPolicy p;
  p.max_age = 86400;
  StsCached c = sts_after_fetch("id1", "text", p, 0, zero());
  ferry::TimeMs previous = 0;
  for (int i = 1; i <= 10; ++i) {
    c = sts_after_failure(c, 0, zero());
    EXPECT_EQ(c.id, "id1");
    EXPECT_EQ(c.policy_text, "text");
    EXPECT_EQ(c.failures, static_cast<std::uint32_t>(i));
    EXPECT_GE(c.next_refresh_ms, previous);
    EXPECT_LE(c.next_refresh_ms, 6LL * 3600 * 1000);
    previous = c.next_refresh_ms;
  }
  EXPECT_EQ(previous, 6LL * 3600 * 1000);
}

}  // namespace
