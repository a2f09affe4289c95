// RequireTls: the RFC 8689 decisions of one delivery: whether a message demands validated TLS
// (REQUIRETLS on MAIL) or waives the recipient domain's TLS policy (`TLS-Required: No`), and
// whether a connection's TLS policy may carry a REQUIRETLS message.
// Contract: pure; the header search reads the header section only and never allocates more than
// one field's unfolded value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ferry/Envelope.hpp"
#include "ferry/RecipientState.hpp"
#include "mta/delivery/RoutePlan.hpp"
#include "mta/delivery/TlsPolicyKind.hpp"

namespace ferry::delivery {

// RFC 8689 §3: the message's header section holds a `TLS-Required` field whose value is "No"
// (field name case-insensitive, the value folded or not, surrounding white space ignored).
// Fields in the body (after the first empty line) do not count.
bool has_tls_required_no(std::string_view message);

// What the sender asked of the transport for one message.
struct TlsDemand {
  bool require_tls = false;  // REQUIRETLS: validated TLS to a REQUIRETLS server, else 5.7.30
  // `TLS-Required: No`: MTA-STS and DANE failures do not stop delivery (TLS is still used when
  // offered). Never set together with require_tls: RFC 8689 §3 lets REQUIRETLS win.
  bool policy_waived = false;
};

TlsDemand tls_demand(const Envelope& envelope, std::string_view message);

// RFC 8689 §4.2.1: a next hop for a REQUIRETLS message is one whose TLS the policy validates
// (DANE, MTA-STS enforce, or a route that verifies the certificate).
bool validates_tls(TlsPolicyKind kind);

// Before connecting: why a message with this demand cannot go under `kind` (the diagnostic of
// its 5.7.30 failure), or empty when it may be tried.
std::string require_tls_refusal(const TlsDemand& demand, TlsPolicyKind kind);

// The permanent 5.7.30 failure of every recipient of such a message, made at `now` without
// connecting (RFC 8689 §4.2.1: no next hop qualifies, and waiting would not change that); nullopt
// when the message may be tried under `kind`.
std::optional<Attempt> require_tls_failure(const TlsDemand& demand, TlsPolicyKind kind, TimeMs now);

// The kind of a route's own TLS setting (MTA-STS and DANE kinds come from their policies).
TlsPolicyKind route_policy_kind(TlsPolicy tls);

// The kind of a policy once `TLS-Required: No` waives it: the recipient domain's MTA-STS and
// DANE policies stop deciding (delivery as opportunistic, RFC 8689 §4.2.2); a route's own
// setting (required, verify) is the operator's and stays.
TlsPolicyKind waived_policy(const TlsDemand& demand, TlsPolicyKind kind);

}  // namespace ferry::delivery
