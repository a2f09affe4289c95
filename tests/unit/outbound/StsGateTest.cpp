// StsGate: an MTA-STS policy applied to a delivery's MX targets (RFC 8461 §5.1): enforce keeps
// the matching MX hosts and requires a verified certificate, or defers (4.7.5) when none match;
// testing keeps every host and names the mismatches; no policy changes nothing.
#include "mta/outbound/StsGate.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::outbound;

namespace {

std::vector<delivery::Target> targets() {
  return {{"mx1.example.test", "192.0.2.1", 10},
          {"backup.other.test", "192.0.2.2", 20},
          {"mx2.example.test", "192.0.2.3", 30}};
}

StsGate gate(delivery::StsMode mode) {
  StsGate g;
  g.domain = "example.test";
  g.policy = delivery::StsPolicy{mode, 86400, {"*.example.test"}};
  return g;
}

TEST(StsGate, EnforceKeepsMatchingHostsAndRequiresVerifiedTls) {
  delivery::RoutePlan plan;
  plan.tls_name = "stale.test";
  const StsVerdict v = sts_apply(gate(delivery::StsMode::Enforce), targets(), plan, "/ca.pem");
  ASSERT_EQ(v.targets.size(), 2u);
  EXPECT_EQ(v.targets[0].host, "mx1.example.test");
  EXPECT_EQ(v.targets[1].host, "mx2.example.test");
  EXPECT_EQ(v.refused, std::vector<std::string>{"backup.other.test"});
  EXPECT_FALSE(v.failure);
  EXPECT_EQ(plan.tls, delivery::TlsPolicy::Verify);
  EXPECT_EQ(plan.tls_ca_file, "/ca.pem");
  EXPECT_EQ(plan.tls_name, "");  // the MX name itself is verified
  EXPECT_EQ(plan.tls_policy_kind, delivery::TlsPolicyKind::StsEnforce);
}

TEST(StsGate, EnforceWithNoMatchingHostDefersWith475) {
  delivery::RoutePlan plan;
  StsGate g = gate(delivery::StsMode::Enforce);
  g.policy->mx = {"mail.elsewhere.test"};
  const StsVerdict v = sts_apply(g, targets(), plan, "");
  EXPECT_TRUE(v.targets.empty());
  ASSERT_TRUE(v.failure);
  const Attempt a = delivery::classify_error(*v.failure, 0);
  EXPECT_EQ(a.status, "4.7.5");
  EXPECT_EQ(a.outcome, AttemptOutcome::Transient);
  EXPECT_NE(v.failure->detail.find("no MX host matches the MTA-STS policy of example.test"),
            std::string::npos);
}

TEST(StsGate, TestingKeepsEveryHostAndNamesTheMismatch) {
  delivery::RoutePlan plan;
  const StsVerdict v = sts_apply(gate(delivery::StsMode::Testing), targets(), plan, "/ca.pem");
  EXPECT_EQ(v.targets.size(), 3u);
  EXPECT_EQ(v.refused, std::vector<std::string>{"backup.other.test"});
  EXPECT_FALSE(v.failure);
  EXPECT_EQ(plan.tls, delivery::TlsPolicy::Opportunistic);
  EXPECT_EQ(plan.tls_policy_kind, delivery::TlsPolicyKind::StsTesting);
}

TEST(StsGate, NoPolicyChangesNothing) {
  delivery::RoutePlan plan;
  StsGate g;
  g.domain = "example.test";
  const StsVerdict v = sts_apply(g, targets(), plan, "/ca.pem");
  EXPECT_EQ(v.targets.size(), 3u);
  EXPECT_EQ(plan.tls, delivery::TlsPolicy::Opportunistic);
  EXPECT_FALSE(plan.tls_policy_kind);
}

}  // namespace
