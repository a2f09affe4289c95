// PaceRule: pattern matching, which rule paces a domain (domain over MX, exact over pattern,
// longest pattern, catch-all last), built-in provider rules and their override; rate text.
#include "mta/delivery/PaceRule.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/text/Rate.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {

PaceRule domain_rule(std::string p, double rate = 1) {
  PaceRule r;
  r.match = PaceRule::Match::Domain;
  r.pattern = std::move(p);
  r.rate = rate;
  return r;
}
PaceRule mx_rule(std::string p, double rate = 1) {
  PaceRule r = domain_rule(std::move(p), rate);
  r.match = PaceRule::Match::Mx;
  return r;
}

TEST(deliveryPaceRule, PatternMatches) {
  struct Case {
    const char* pattern;
    const char* name;
    bool want;
  };
  const Case cases[] = {
      {"example.com", "example.com", true},
      {"example.com", "a.example.com", false},
      {"*.example.com", "a.example.com", true},
      {"*.example.com", "b.a.example.com", true},
      {"*.example.com", "example.com", false},
      {"*.example.com", "badexample.com", false},
      {"*", "anything.example", true},
      {"*.google.com", "aspmx.l.google.com", true},
      {"*.google.com", "google.com.evil", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(pace_pattern_matches(c.pattern, c.name), c.want) << c.pattern << " " << c.name;
}

TEST(deliveryPaceRule, KeyPrecedence) {
  const std::vector<PaceRule> rules = {
      domain_rule("*", 100),          domain_rule("*.example.com", 2), domain_rule("mail.example.com", 3),
      mx_rule("*.google.com", 4),     mx_rule("*.l.google.com", 5),    domain_rule("*.a.example.com", 6),
      mx_rule("mx.other.example", 7),
  };
  const std::vector<std::string> google = {"aspmx.l.google.com", "alt1.aspmx.l.google.com"};
  const std::vector<std::string> other = {"mx.unmatched.example", "mx.other.example"};
  const std::vector<std::string> none;
  struct Case {
    const char* name;
    const char* domain;
    const std::vector<std::string>* mx;
    const char* key;
    double rate;
  };
  const Case cases[] = {
      {"exact domain beats pattern", "mail.example.com", &google, "mail.example.com", 3},
      {"longest domain pattern", "x.a.example.com", &none, "*.a.example.com", 6},
      {"domain pattern beats mx", "b.example.com", &google, "*.example.com", 2},
      {"mx rule, longest pattern", "workspace.example", &google, "mx:*.l.google.com", 5},
      {"second mx host decides when the first matches none", "corp.example", &other, "mx:mx.other.example",
       7},
      {"catch-all last", "plain.example", &none, "plain.example", 100},
  };
  for (const auto& c : cases) {
    const PaceKey k = pace_key_for(rules, c.domain, *c.mx, c.domain);
    EXPECT_EQ(k.name, c.key) << c.name;
    EXPECT_EQ(k.rule.rate, c.rate) << c.name;
  }
}

TEST(deliveryPaceRule, NoRuleIsTheDestinationWithoutRate) {
  const std::vector<PaceRule> rules = {domain_rule("yahoo.com", 5)};
  const PaceKey k = pace_key_for(rules, "example.org", {}, "relay.example:587");
  EXPECT_EQ(k.name, "relay.example:587");
  EXPECT_EQ(k.rule.rate, 0);
  EXPECT_EQ(k.rule.backoff_period_ms, 10 * 60 * 1000);
}

TEST(deliveryPaceRule, BuiltinsAndOverride) {
  const auto builtins = effective_pace_rules({});
  ASSERT_EQ(builtins.size(), 3u);
  for (const auto& b : builtins) EXPECT_TRUE(b.builtin && b.match == PaceRule::Match::Mx && b.rate == 0);
  const std::vector<std::string> outlook = {"contoso-com.mail.protection.outlook.com"};
  EXPECT_EQ(pace_key_for(builtins, "contoso.com", outlook, "contoso.com").name,
            "mx:*.protection.outlook.com");
  const std::vector<PaceRule> user = {mx_rule("*.protection.outlook.com", 10)};
  const auto rules = effective_pace_rules(user);
  ASSERT_EQ(rules.size(), 3u);
  const PaceKey k = pace_key_for(rules, "contoso.com", outlook, "contoso.com");
  EXPECT_EQ(k.rule.rate, 10);
  EXPECT_FALSE(k.rule.builtin);
  EXPECT_TRUE(pace_needs_mx(rules));
  const std::vector<PaceRule> only_domains = {domain_rule("a.example")};
  EXPECT_FALSE(pace_needs_mx(only_domains));
}

TEST(deliveryPaceRule, BurstDefault) {
  struct Case {
    double rate, burst, want;
  };
  const Case cases[] = {{10, 0, 10}, {0.5, 0, 1}, {600.0 / 60, 3, 3}, {2.7, 0, 2}};
  for (const auto& c : cases) {
    PaceRule r = domain_rule("a", c.rate);
    r.burst = c.burst;
    EXPECT_EQ(pace_burst(r), c.want) << c.rate << " " << c.burst;
  }
}

TEST(deliveryPaceRule, RateText) {
  struct Case {
    const char* text;
    std::optional<double> want;
  };
  const Case cases[] = {
      {"10/s", 10},   {"600/min", 10}, {"20000/h", 20000.0 / 3600},
      {"86400/d", 1}, {"0/s", {}},     {"10", {}},
      {"/s", {}},     {"10/sec", {}},  {"-1/s", {}},
      {"1.5/s", {}},  {"10/s ", {}},   {"2000000000/s", {}},
  };
  for (const auto& c : cases) EXPECT_EQ(text::parse_rate(c.text), c.want) << c.text;
  EXPECT_EQ(text::format_rate(10), "10/s");
  EXPECT_EQ(text::format_rate(2.5), "2.5/s");
  EXPECT_EQ(text::format_rate(0.5), "30/min");
  EXPECT_EQ(text::format_rate(0), "unlimited");
}

}  // namespace
