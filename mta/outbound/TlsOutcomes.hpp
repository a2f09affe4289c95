// TlsOutcomes: what one outbound TLS session attempt tells SMTP TLS Reporting (RFC 8460): the
// policy that applied, success or the §4.3 result type of the failure, and the addresses.
// Contract: only a delivery to the MX hosts of a recipient domain has a policy domain to report
// to; a configured route or an address literal gives no outcome (nullopt).
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "ferry/Clock.hpp"
#include "mta/delivery/MxPlan.hpp"
#include "mta/delivery/RoutePlan.hpp"
#include "mta/delivery/TlsReport.hpp"
#include "mta/outbound/TlsOutcome.hpp"

namespace ferry::outbound {

// The policy of a session before MTA-STS or DANE say more: `no-policy-found` for the recipient
// domain; nullopt when the plan is not an MX delivery (nothing to report).
std::optional<delivery::TlsPolicyRef> session_tls_policy(const delivery::RoutePlan& plan);

// An MTA-STS event without a session (policy fetch failed or invalid, no MX matched) as a TLS
// report outcome under the domain's "sts" policy (RFC 8460 §4.3 result types).
delivery::TlsOutcome sts_report_outcome(const TlsOutcome& outcome, const delivery::StsPolicy* policy,
                                        TimeMs now);

// The "sts" policy of a TLS report: the policy's lines as policy-string and its mx patterns as
// mx-host (RFC 8460 §4.4).
delivery::TlsPolicyRef sts_policy_ref(std::string domain, const delivery::StsPolicy* policy);

// The outcome of one session under `policy`: a success when `failure` is empty.
delivery::TlsOutcome tls_outcome(const delivery::TlsPolicyRef& policy, const delivery::Target& target,
                                 std::string sending_ip, std::optional<delivery::TlsResultType> failure,
                                 TimeMs now);

// RFC 8460 §4.3.1: a failed handshake's result type from the certificate check OpenSSL made
// (`tls` may be null: nothing was checked): an expired, untrusted or misnamed certificate has
// its own type, anything else is a validation-failure.
delivery::TlsResultType handshake_failure_type(const SSL* tls);

}  // namespace ferry::outbound
