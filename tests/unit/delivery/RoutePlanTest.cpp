// RoutePlan: route matching (exact beats "*"), route host parsing, destination keys, and the
// route → literal → MX decision.
#include "mta/delivery/RoutePlan.hpp"

#include <gtest/gtest.h>

using namespace ferry::delivery;

namespace {
RouteRule rule(std::string domain, std::string host, std::uint16_t port = 0) {
  RouteRule r;
  r.domain = std::move(domain);
  r.host = std::move(host);
  r.port = port;
  return r;
}

// The plan of a route that must plan; a failure fails the test and yields an empty plan.
RoutePlan route_of(const ferry::Result<RoutePlan, NetworkError>& planned) {
  if (planned) return *planned;
  ADD_FAILURE() << "unexpected error: " << to_string(planned.error().kind) << " " << planned.error().detail;
  return {};
}
}  // namespace

struct MatchCase {
  const char* domain;
  int expected;  // index into the rules, -1 = none
};
class Match : public ::testing::TestWithParam<MatchCase> {};
TEST_P(Match, MostSpecificWins) {
  const std::vector<RouteRule> rules{rule("*", "smarthost.example"), rule("Example.ORG", "[10.0.0.5]"),
                                     rule("example.net", "relay.example.net"), rule("example.org", "second"),
                                     rule("*", "second-wildcard")};
  const RouteRule* r = match_route(GetParam().domain, rules);
  const RouteRule* want = GetParam().expected < 0 ? nullptr : &rules[GetParam().expected];
  EXPECT_EQ(r, want) << GetParam().domain;
}
INSTANTIATE_TEST_SUITE_P(deliveryTable, Match,
                         ::testing::Values(MatchCase{"example.org", 1}, MatchCase{"EXAMPLE.org.", 1},
                                           MatchCase{"example.net", 2}, MatchCase{"sub.example.org", 0},
                                           MatchCase{"other.test", 0}, MatchCase{"[192.0.2.1]", 0}));

TEST(deliveryRoute, NoRulesNoMatch) {
  EXPECT_EQ(match_route("example.org", {}), nullptr);
  const std::vector<RouteRule> rules{rule("example.org", "x")};
  EXPECT_EQ(match_route("example.com", rules), nullptr);
}

struct HostCase {
  const char* text;
  bool ok;
  const char* name;
  const char* literal;  // nullptr: a name
  std::uint16_t port;
};
class HostParse : public ::testing::TestWithParam<HostCase> {};
TEST_P(HostParse, Parses) {
  auto h = parse_route_host(GetParam().text);
  ASSERT_EQ(h.has_value(), GetParam().ok) << GetParam().text;
  if (!h) return;
  EXPECT_EQ(h->name, GetParam().name);
  EXPECT_EQ(h->port, GetParam().port);
  if (GetParam().literal) {
    ASSERT_TRUE(h->literal);
    EXPECT_EQ(h->literal->str(), GetParam().literal);
  } else {
    EXPECT_FALSE(h->literal);
  }
}
INSTANTIATE_TEST_SUITE_P(
    deliveryTable, HostParse,
    ::testing::Values(HostCase{"[10.0.0.5]", true, "[10.0.0.5]", "10.0.0.5", 0},
                      HostCase{"[10.0.0.5]:2525", true, "[10.0.0.5]", "10.0.0.5", 2525},
                      HostCase{"[IPv6:::1]:2525", true, "[IPv6:::1]", "::1", 2525},
                      HostCase{"Relay.Example.COM", true, "relay.example.com", nullptr, 0},
                      HostCase{"relay.example.com:587", true, "relay.example.com", nullptr, 587},
                      HostCase{"relay.example.com:", false, "", nullptr, 0},
                      HostCase{"relay.example.com:0", false, "", nullptr, 0},
                      HostCase{"relay.example.com:65536", false, "", nullptr, 0},
                      HostCase{"relay.example.com:x", false, "", nullptr, 0},
                      HostCase{"[10.0.0.5", false, "", nullptr, 0},
                      HostCase{"[10.0.0]", false, "", nullptr, 0},
                      HostCase{"[10.0.0.5]x", false, "", nullptr, 0}, HostCase{"", false, "", nullptr, 0}));

TEST(deliveryRoute, DestinationKeys) {
  const RouteRule literal = rule("example.org", "[10.0.0.5]:2525");
  const RouteRule named = rule("*", "Relay.Example.com", 587);
  const RouteRule policy_only = rule("example.net", "");
  EXPECT_EQ(destination_key("Example.ORG.", nullptr), "example.org");
  EXPECT_EQ(destination_key("example.org", &literal), "[10.0.0.5]:2525");
  EXPECT_EQ(destination_key("a.test", &named), "relay.example.com:587");
  EXPECT_EQ(destination_key("b.test", &named), "relay.example.com:587");  // one pool for the smarthost
  EXPECT_EQ(destination_key("Example.NET", &policy_only), "example.net");
  RouteDefaults d;
  d.port = 2500;
  const RouteRule bare = rule("*", "relay");
  EXPECT_EQ(destination_key("x", &bare), "relay:25");
  EXPECT_EQ(destination_key("x", &bare, d), "relay:2500");
}

TEST(deliveryRoute, PlanWithoutRoutesUsesMx) {
  auto p = route_of(plan_route("Example.ORG", {}));
  EXPECT_EQ(p.lookup, RoutePlan::Lookup::Mx);
  EXPECT_EQ(p.name, "example.org");
  EXPECT_EQ(p.destination, "example.org");
  EXPECT_EQ(p.port, 25);
  EXPECT_FALSE(p.routed);
  EXPECT_EQ(p.tls, TlsPolicy::Opportunistic);
}

TEST(deliveryRoute, PlanLiteralWithoutRoutes) {
  auto p = route_of(plan_route("[192.0.2.1]", {}));
  EXPECT_EQ(p.lookup, RoutePlan::Lookup::Literal);
  EXPECT_EQ(p.literal->str(), "192.0.2.1");
  EXPECT_EQ(p.destination, "[192.0.2.1]");
  auto bad = plan_route("[192.0.2]", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, NetworkErrorKind::BadAddressLiteral);
}

TEST(deliveryRoute, WildcardRouteTakesLiteralsToo) {
  RouteRule smarthost = rule("*", "smtp.relay.test:465");
  smarthost.tls = TlsPolicy::Verify;
  smarthost.implicit_tls = true;
  smarthost.auth_user = "ferry";
  smarthost.auth_password = "secret";
  smarthost.source_address = "192.0.2.99";
  const std::vector<RouteRule> rules{smarthost};
  for (const char* d : {"[192.0.2.1]", "example.org", "[bogus]"}) {
    auto p = route_of(plan_route(d, rules));
    EXPECT_TRUE(p.routed);
    EXPECT_EQ(p.lookup, RoutePlan::Lookup::Mx);
    EXPECT_EQ(p.name, "smtp.relay.test");
    EXPECT_EQ(p.port, 465);
    EXPECT_EQ(p.tls, TlsPolicy::Verify);
    EXPECT_TRUE(p.implicit_tls);
    EXPECT_EQ(p.auth_user, "ferry");
    EXPECT_EQ(p.auth_password, "secret");
    EXPECT_EQ(p.source_address, "192.0.2.99");
    EXPECT_EQ(p.destination, "smtp.relay.test:465");
  }
}

TEST(deliveryRoute, LiteralRouteHost) {
  const std::vector<RouteRule> rules{rule("example.org", "[10.0.0.5]", 2525)};
  auto p = route_of(plan_route("example.org", rules));
  EXPECT_EQ(p.lookup, RoutePlan::Lookup::Literal);
  EXPECT_EQ(p.literal->str(), "10.0.0.5");
  EXPECT_EQ(p.port, 2525);  // rule.port beats the default
  EXPECT_EQ(p.destination, "[10.0.0.5]:2525");
}

TEST(deliveryRoute, PolicyOnlyRouteKeepsMx) {
  RouteRule r = rule("example.net", "");
  r.tls = TlsPolicy::Required;
  const std::vector<RouteRule> rules{r};
  auto p = route_of(plan_route("example.net", rules));
  EXPECT_FALSE(p.routed);
  EXPECT_EQ(p.name, "example.net");
  EXPECT_EQ(p.tls, TlsPolicy::Required);
}

TEST(deliveryRoute, MalformedRouteHostIsAConfigError) {
  const std::vector<RouteRule> rules{rule("*", "[10.0.0]")};
  auto planned = plan_route("example.org", rules);
  ASSERT_FALSE(planned.ok());
  auto e = planned.error();
  EXPECT_EQ(e.kind, NetworkErrorKind::ConfigError);
}

TEST(deliveryRoute, DomainOf) {
  EXPECT_EQ(domain_of("user@Example.ORG"), "Example.ORG");
  EXPECT_EQ(domain_of("\"a@b\"@example.org"), "example.org");
  EXPECT_EQ(domain_of("user@[192.0.2.1]"), "[192.0.2.1]");
  EXPECT_EQ(domain_of("postmaster"), "");
  EXPECT_STREQ(to_string(TlsPolicy::Verify), "verify");
}

// The TLS identity (SNI and, under verify, the certificate name): tls_name first; an address
// literal without it has none, so verify cannot pass on "any certificate a trusted CA issued".
TEST(deliveryRoute, TlsIdentity) {
  RouteRule literal = rule("*", "[192.0.2.10]:587");
  literal.tls = TlsPolicy::Verify;
  const std::vector<RouteRule> bare{literal};
  auto p = route_of(plan_route("example.org", bare));
  EXPECT_EQ(tls_identity(p, "[192.0.2.10]"), "");
  literal.tls_name = "relay.example.net";
  literal.tls_ca_file = "/etc/ferry/ca.pem";
  const std::vector<RouteRule> named{literal};
  p = route_of(plan_route("example.org", named));
  EXPECT_EQ(p.tls_ca_file, "/etc/ferry/ca.pem");
  EXPECT_EQ(tls_identity(p, "[192.0.2.10]"), "relay.example.net");
  // A routed host name: its own name, whichever of its MX hosts answers; MX delivery: the host.
  const std::vector<RouteRule> host{rule("*", "smtp.relay.test:465")};
  EXPECT_EQ(tls_identity(route_of(plan_route("example.org", host)), "mx9.relay.test"), "smtp.relay.test");
  EXPECT_EQ(tls_identity(route_of(plan_route("example.org", {})), "mx1.example.org."), "mx1.example.org");
}
