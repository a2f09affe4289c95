// TlsPolicyKind: which rule decided the TLS of an outbound delivery, as the delivery log line
// and `ferry queue show` name it (`tls_policy=...`).
// Contract: a plain enum and its fixed spelling; the deciding is done elsewhere.
#pragma once

#include <cstdint>

namespace ferry::delivery {

enum class TlsPolicyKind : std::uint8_t {
  Opportunistic,  // RFC 7435: TLS when offered, any certificate
  Required,       // a route's tls = "required": TLS, any certificate
  Verify,         // a route's tls = "verify": TLS and a certificate valid for the name
  Dane,           // RFC 7672: the TLSA records decide
  StsEnforce,     // RFC 8461 mode enforce: matching MX, WebPKI-valid certificate
  StsTesting,     // RFC 8461 mode testing: delivered as opportunistic, failures reported
};

inline const char* to_string(TlsPolicyKind kind) {
  switch (kind) {
    case TlsPolicyKind::Required:
      return "required";
    case TlsPolicyKind::Verify:
      return "verify";
    case TlsPolicyKind::Dane:
      return "dane";
    case TlsPolicyKind::StsEnforce:
      return "sts-enforce";
    case TlsPolicyKind::StsTesting:
      return "sts-testing";
    default:
      return "opportunistic";
  }
}

}  // namespace ferry::delivery
