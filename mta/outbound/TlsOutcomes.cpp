// TlsOutcomes: see TlsOutcomes.hpp.
#include "mta/outbound/TlsOutcomes.hpp"

#include <openssl/x509_vfy.h>

#include "ferry/text/Ascii.hpp"

namespace ferry::outbound {

std::optional<delivery::TlsPolicyRef> session_tls_policy(const delivery::RoutePlan& plan) {
  if (plan.routed || plan.lookup != delivery::RoutePlan::Lookup::Mx || plan.name.empty()) return std::nullopt;
  std::string domain = text::to_lower(plan.name);
  if (domain.back() == '.') domain.pop_back();
  using Kind = delivery::TlsPolicyKind;
  if (plan.tls_policy_kind == Kind::StsEnforce || plan.tls_policy_kind == Kind::StsTesting)
    return sts_policy_ref(std::move(domain), plan.sts_policy ? &*plan.sts_policy : nullptr);
  if (!plan.dane)
    return delivery::TlsPolicyRef{delivery::TlsPolicyType::NoPolicyFound, {}, std::move(domain), {}};
  // RFC 8460 §4.4: for "tlsa" the policy-string is the TLSA records in presentation form.
  static constexpr char hex[] = "0123456789ABCDEF";
  std::vector<std::string> records;
  for (const auto& r : *plan.dane) {
    std::string line =
        std::to_string(r.usage) + " " + std::to_string(r.selector) + " " + std::to_string(r.mtype) + " ";
    for (unsigned char b : r.data) {
      line += hex[b >> 4];
      line += hex[b & 0xF];
    }
    records.push_back(std::move(line));
  }
  return delivery::TlsPolicyRef{delivery::TlsPolicyType::Tlsa, std::move(records), std::move(domain), {}};
}

delivery::TlsOutcome tls_outcome(const delivery::TlsPolicyRef& policy, const delivery::Target& target,
                                 std::string sending_ip, std::optional<delivery::TlsResultType> failure,
                                 TimeMs now) {
  delivery::TlsOutcome o{policy, std::nullopt, now};
  if (failure)
    o.failure = delivery::TlsFailureDetail{*failure, std::move(sending_ip), target.host, target.ip};
  return o;
}

delivery::TlsResultType handshake_failure_type(const SSL* tls) {
  using R = delivery::TlsResultType;
  if (!tls) return R::ValidationFailure;
  switch (SSL_get_verify_result(tls)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return R::CertificateExpired;
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return R::CertificateHostMismatch;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return R::CertificateNotTrusted;
    default:
      return R::ValidationFailure;
  }
}

delivery::TlsPolicyRef sts_policy_ref(std::string domain, const delivery::StsPolicy* policy) {
  delivery::TlsPolicyRef ref{delivery::TlsPolicyType::Sts, {}, text::to_lower(domain), {}};
  if (!policy) return ref;

  ref.strings = {"version: STSv1", std::string("mode: ") + delivery::to_string(policy->mode)};
  for (const auto& mx : policy->mx) ref.strings.push_back("mx: " + mx);
  ref.strings.push_back("max_age: " + std::to_string(policy->max_age));
  ref.mx_hosts = policy->mx;
  return ref;
}

delivery::TlsOutcome sts_report_outcome(const TlsOutcome& outcome, const delivery::StsPolicy* policy,
                                        TimeMs now) {
  delivery::TlsOutcome o{sts_policy_ref(outcome.domain, policy), std::nullopt, now};
  if (!outcome.success) {
    const auto type = delivery::parse_tls_result_type(outcome.result_type);
    o.failure = delivery::TlsFailureDetail{type.value_or(delivery::TlsResultType::ValidationFailure), "",
                                           outcome.mx_host, outcome.ip};
  }
  return o;
}

}  // namespace ferry::outbound
