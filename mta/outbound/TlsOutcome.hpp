// TlsOutcome: what one delivery learnt about a recipient domain's published TLS policy, for
// reporting (RFC 8460 TLS-RPT counts successes and failures per policy).
// Contract: plain data handed to DeliveryDeps::on_tls_outcome on the I/O thread; the agent
// reports it and never waits for the consumer.
#pragma once

#include <string>

#include "mta/delivery/TlsPolicyKind.hpp"

namespace ferry::outbound {

struct TlsOutcome {
  std::string domain;  // the recipient domain whose policy applied
  delivery::TlsPolicyKind policy = delivery::TlsPolicyKind::Opportunistic;
  bool success = false;
  // RFC 8460 §4.3 result type when !success: "sts-policy-fetch-error", "sts-policy-invalid",
  // "validation-failure" (no MX matched, or the certificate did not verify), ...
  std::string result_type;
  std::string mx_host;  // the MX host concerned, when one was
  std::string ip;
  std::string detail;  // our own words, for the report's failure-reason-code
};

}  // namespace ferry::outbound
