// StsGate: MTA-STS (RFC 8461 §4, §5) applied to one delivery to a recipient domain's MX hosts:
// which targets may be used and with which TLS, decided from the domain's policy.
// Contract: pure; the policy comes from StsCache, the targets from the MX plan. Enforce keeps
// only targets whose MX name matches the policy and requires a certificate valid for that name;
// testing keeps every target and names the ones that would have been refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mta/delivery/MxPlan.hpp"
#include "mta/delivery/ReplyClassifier.hpp"
#include "mta/delivery/RoutePlan.hpp"
#include "mta/delivery/StsPolicy.hpp"

namespace ferry::outbound {

struct StsGate {
  std::string domain;
  std::optional<delivery::StsPolicy> policy;  // enforce or testing; nullopt = MTA-STS not applied
};

struct StsVerdict {
  std::vector<delivery::Target> targets;  // the targets to try, in MX order
  std::vector<std::string> refused;       // MX names that do not match the policy
  // Enforce with no matching target: the delivery waits (RFC 8461 §5.1: 4.7.5, never a bounce).
  std::optional<delivery::NetworkError> failure;
};

// The targets an MX delivery may use under the domain's policy, and the plan's TLS made
// "verify" against `ca_file` when the policy enforces (RFC 8461 §4.2: WebPKI, the MX name).
StsVerdict sts_apply(const StsGate& gate, const std::vector<delivery::Target>& targets,
                     delivery::RoutePlan& plan, const std::string& ca_file);

}  // namespace ferry::outbound
