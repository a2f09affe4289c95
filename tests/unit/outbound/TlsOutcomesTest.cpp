// The policy a TLS report counts a session under (RFC 8460 §4.4): none for routes and literals,
// "no-policy-found" for a plain MX delivery, "tlsa" with the records in presentation form under
// DANE, "sts" with the policy's lines and mx patterns under MTA-STS.
#include <gtest/gtest.h>

#include "mta/outbound/TlsOutcomes.hpp"

namespace ferry::outbound {
namespace {

delivery::RoutePlan mx_plan() {
  delivery::RoutePlan p;
  p.lookup = delivery::RoutePlan::Lookup::Mx;
  p.name = "Example.TEST.";
  return p;
}

TEST(TlsOutcomes, RoutesHaveNoReportPolicyAndPlainMxHasNoPolicyFound) {
  delivery::RoutePlan routed = mx_plan();
  routed.routed = true;
  EXPECT_FALSE(session_tls_policy(routed));
  const auto plain = session_tls_policy(mx_plan());
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->type, delivery::TlsPolicyType::NoPolicyFound);
  EXPECT_EQ(plain->domain, "example.test");
}

TEST(TlsOutcomes, DaneSessionsCountUnderTheTlsaRecords) {
  delivery::RoutePlan p = mx_plan();
  p.dane = std::vector<delivery::TlsaRecord>{{3, 1, 1, std::string("\x01\xab", 2)}};
  const auto ref = session_tls_policy(p);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->type, delivery::TlsPolicyType::Tlsa);
  ASSERT_EQ(ref->strings.size(), 1u);
  EXPECT_EQ(ref->strings[0], "3 1 1 01AB");
}

TEST(TlsOutcomes, StsSessionsCountUnderThePolicyLinesAndMxPatterns) {
  delivery::RoutePlan p = mx_plan();
  p.tls_policy_kind = delivery::TlsPolicyKind::StsEnforce;
  p.sts_policy = delivery::StsPolicy{delivery::StsMode::Enforce, 86400, {"mx.example.test", "*.backup.test"}};
  const auto ref = session_tls_policy(p);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->type, delivery::TlsPolicyType::Sts);
  EXPECT_EQ(ref->strings, (std::vector<std::string>{"version: STSv1", "mode: enforce", "mx: mx.example.test",
                                                    "mx: *.backup.test", "max_age: 86400"}));
  EXPECT_EQ(ref->mx_hosts, (std::vector<std::string>{"mx.example.test", "*.backup.test"}));
  // A policy event without a session (the fetch failed) still names the domain's policy.
  const delivery::TlsOutcome fetch = sts_report_outcome({"Example.test", delivery::TlsPolicyKind::StsEnforce,
                                                         false, "sts-policy-fetch-error", "", "", "timeout"},
                                                        nullptr, 1000);
  EXPECT_EQ(fetch.policy.domain, "example.test");
  ASSERT_TRUE(fetch.failure);
  EXPECT_EQ(fetch.failure->result, delivery::TlsResultType::StsPolicyFetchError);
}

}  // namespace
}  // namespace ferry::outbound
