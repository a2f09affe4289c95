// RequireTls: the RFC 8689 decisions of a delivery: the TLS-Required header search, which
// policies carry a REQUIRETLS message, and the 5.7.30 failure made without connecting.
#include "mta/delivery/RequireTls.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::delivery;

namespace {

struct HeaderCase {
  const char* name;
  const char* message;
  bool waived;
};

const HeaderCase kHeaderCases[] = {
    {"plain", "From: a@b\r\nTLS-Required: No\r\n\r\nbody\r\n", true},
    {"case of name and value", "tls-required: no\r\n\r\n", true},
    {"white space around", "TLS-Required:   No  \r\n\r\n", true},
    {"folded value", "TLS-Required:\r\n No\r\nSubject: x\r\n\r\n", true},
    {"bare LF lines", "Subject: x\nTLS-Required: No\n\nbody\n", true},
    {"no header section end", "TLS-Required: No", true},
    {"other value", "TLS-Required: Yes\r\n\r\n", false},
    {"longer value", "TLS-Required: Nope\r\n\r\n", false},
    {"folded into another word", "TLS-Required: No\r\n thanks\r\n\r\n", false},
    {"only in the body", "Subject: x\r\n\r\nTLS-Required: No\r\n", false},
    {"a different field", "X-TLS-Required: No\r\n\r\n", false},
    {"continuation of another field", "Subject: x\r\n TLS-Required: No\r\n\r\n", false},
    {"empty message", "", false},
};

}  // namespace

TEST(requireTls, TlsRequiredHeaderTable) {
  for (const auto& c : kHeaderCases) EXPECT_EQ(has_tls_required_no(c.message), c.waived) << c.name;
}

TEST(requireTls, RequireTlsWinsOverTheHeader) {
  Envelope e;
  const std::string message = "TLS-Required: No\r\n\r\nx\r\n";
  TlsDemand d = tls_demand(e, message);
  EXPECT_FALSE(d.require_tls);
  EXPECT_TRUE(d.policy_waived);
  e.require_tls = true;
  d = tls_demand(e, message);
  EXPECT_TRUE(d.require_tls);
  EXPECT_FALSE(d.policy_waived);  // RFC 8689 §3: the field is ignored with REQUIRETLS
}

TEST(requireTls, OnlyValidatingPoliciesCarryARequireTlsMessage) {
  const TlsDemand demand{true, false};
  struct Row {
    TlsPolicyKind kind;
    bool refused;
  } rows[] = {{TlsPolicyKind::Opportunistic, true}, {TlsPolicyKind::Required, true},
              {TlsPolicyKind::StsTesting, true},    {TlsPolicyKind::Verify, false},
              {TlsPolicyKind::Dane, false},         {TlsPolicyKind::StsEnforce, false}};
  for (const auto& r : rows) {
    const auto failure = require_tls_failure(demand, r.kind, 42);
    EXPECT_EQ(failure.has_value(), r.refused) << to_string(r.kind);
    if (!failure) continue;
    EXPECT_EQ(failure->outcome, AttemptOutcome::Permanent);
    EXPECT_EQ(failure->status, "5.7.30");
    EXPECT_EQ(failure->time_ms, 42);
    EXPECT_NE(failure->reply.find(to_string(r.kind)), std::string::npos) << failure->reply;
  }
  // Without REQUIRETLS nothing is refused.
  EXPECT_FALSE(require_tls_failure(TlsDemand{}, TlsPolicyKind::Opportunistic, 0));
}

TEST(requireTls, RoutePolicyKindsAndWaiving) {
  EXPECT_EQ(route_policy_kind(TlsPolicy::None), TlsPolicyKind::Opportunistic);
  EXPECT_EQ(route_policy_kind(TlsPolicy::Opportunistic), TlsPolicyKind::Opportunistic);
  EXPECT_EQ(route_policy_kind(TlsPolicy::Required), TlsPolicyKind::Required);
  EXPECT_EQ(route_policy_kind(TlsPolicy::Verify), TlsPolicyKind::Verify);
  const TlsDemand waived{false, true};
  EXPECT_EQ(waived_policy(waived, TlsPolicyKind::Dane), TlsPolicyKind::Opportunistic);
  EXPECT_EQ(waived_policy(waived, TlsPolicyKind::StsEnforce), TlsPolicyKind::Opportunistic);
  EXPECT_EQ(waived_policy(waived, TlsPolicyKind::Verify), TlsPolicyKind::Verify);  // the operator's
  EXPECT_EQ(waived_policy(TlsDemand{}, TlsPolicyKind::Dane), TlsPolicyKind::Dane);
}
