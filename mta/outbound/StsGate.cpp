// StsGate: see StsGate.hpp.
#include "mta/outbound/StsGate.hpp"

#include <algorithm>

namespace ferry::outbound {

StsVerdict sts_apply(const StsGate& gate, const std::vector<delivery::Target>& targets,
                     delivery::RoutePlan& plan, const std::string& ca_file) {
  StsVerdict v;
  if (!gate.policy) {
    v.targets = targets;
    return v;
  }
  const bool enforce = gate.policy->mode == delivery::StsMode::Enforce;
  for (const auto& t : targets) {
    if (delivery::sts_policy_allows(*gate.policy, t.host)) {
      v.targets.push_back(t);
    } else {
      if (std::find(v.refused.begin(), v.refused.end(), t.host) == v.refused.end())
        v.refused.push_back(t.host);
      if (!enforce) v.targets.push_back(t);  // testing: delivered anyway, reported
    }
  }
  plan.tls_policy_kind = enforce ? delivery::TlsPolicyKind::StsEnforce : delivery::TlsPolicyKind::StsTesting;
  if (!enforce) return v;
  // RFC 8461 §4.2: STARTTLS is required and the certificate must be valid for the MX name.
  plan.tls = delivery::TlsPolicy::Verify;
  plan.tls_ca_file = ca_file;
  plan.tls_name.clear();
  if (v.targets.empty()) {
    std::string names;
    for (const auto& r : v.refused) names += (names.empty() ? "" : ", ") + r;
    v.failure = delivery::NetworkError{delivery::NetworkErrorKind::TlsFailure,
                                       "no MX host matches the MTA-STS policy of " + gate.domain +
                                           (names.empty() ? std::string() : " (" + names + ")")};
  }
  return v;
}

}  // namespace ferry::outbound
