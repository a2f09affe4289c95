// TlsPolicyKind: which outbound TLS policy governed a delivery, as the delivery log line and
// `ferry queue show` name it (`tls_policy=dane`). Contract: pure; the names are stable output.
#pragma once

#include <cstdint>

namespace ferry::delivery {

enum class TlsPolicyKind : std::uint8_t { Dane, StsEnforce, StsTesting, Opportunistic, Required, Verify };

constexpr const char* to_string(TlsPolicyKind kind) noexcept {
  switch (kind) {
    case TlsPolicyKind::Dane:
      return "dane";
    case TlsPolicyKind::StsEnforce:
      return "sts-enforce";
    case TlsPolicyKind::StsTesting:
      return "sts-testing";
    case TlsPolicyKind::Opportunistic:
      return "opportunistic";
    case TlsPolicyKind::Required:
      return "required";
    case TlsPolicyKind::Verify:
      return "verify";
  }
  return "opportunistic";
}

}  // namespace ferry::delivery
