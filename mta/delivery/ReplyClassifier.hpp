// ReplyClassifier: turns a remote SMTP reply or a local/network failure into an Attempt.
// Contract: pure and total: 2xx → Delivered, 4xx → Transient, 5xx → Permanent, anything unknown or
// malformed → Transient (RFC 5321 §4.2.1, §4.3.2); every Attempt carries an RFC 3463 status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/RecipientState.hpp"
#include "ferry/Reply.hpp"

namespace ferry::delivery {

// Failures that happen without a (usable) remote reply. Each maps to one outcome and status.
enum class NetworkErrorKind : std::uint8_t {
  ConnectRefused,       // TCP RST on connect                         → transient 4.4.1
  Timeout,              // a deadline expired; `detail` = phase       → transient 4.4.1 (connect,
                        //   greeting) or 4.4.2 (later phases)
  ConnectionDropped,    // EOF / reset mid-session (§3.8: as 451)     → transient 4.4.2
  TlsFailure,           // handshake or verification failed           → transient 4.7.5
  TlsNotOffered,        // policy required TLS, STARTTLS missing      → transient 4.7.4
  AuthFailure,          // AUTH refused or no usable mechanism        → transient 4.7.0
  ProtocolError,        // malformed reply, unexpected code           → transient 4.5.0
  DnsNxDomain,          // the recipient domain does not exist (§5.1) → permanent 5.1.2
  DnsNullMx,            // RFC 7505 null MX                           → permanent 5.1.10
  DnsTemporary,         // SERVFAIL, timeout, refused (§5.1 MUST queue) → transient 4.4.3
  NoUsableMx,           // MX hosts exist but none has an address     → permanent 5.4.4
  MailLoop,             // we are the best MX, or an MX is our own listener → permanent 5.4.6
  EightBitUnsupported,  // 8-bit body, server lacks 8BITMIME (RFC 6152) → permanent 5.6.3
  Utf8Unsupported,      // UTF-8 envelope, server lacks SMTPUTF8 (RFC 6531) → permanent 5.6.7
  MessageTooBig,        // body larger than the server's SIZE (RFC 1870) → permanent 5.3.4
  BadAddressLiteral,    // "[...]" recipient domain that is not an IP address → permanent 5.1.2
  ConfigError,          // our own routing configuration is unusable → transient 4.3.5
  HostsUnreachable,     // every target is in the "unreachable until" memory → transient 4.4.1
};

const char* to_string(NetworkErrorKind kind) noexcept;

struct NetworkError {
  NetworkErrorKind kind = NetworkErrorKind::ProtocolError;
  // Free text for the operator: the timeout phase ("greeting", "rcpt", "data_done"...), the OS or
  // TLS error string, the DNS name that failed. Appended to the generated reply text.
  std::string detail;
};

// The enhanced status of a reply: its own code when present (with the class forced to agree with
// the basic code, RFC 3463 §2), else derived from the basic code: 2xx → 2.0.0, 4xx → 4.0.0,
// 5xx → 5.0.0; malformed codes → 4.5.0.
EnhancedStatus status_of(const Reply& reply);

AttemptOutcome outcome_of(const Reply& reply);

// An Attempt for a remote reply. host/ip/port are left empty: the daemon fills them.
Attempt classify_reply(const Reply& reply, TimeMs now_ms);

// An Attempt for a failure without a reply (code 0) and a human-readable reply text.
Attempt classify_error(const NetworkError& error, TimeMs now_ms);

// The final Attempt of a recipient whose max_age passed (RFC 5321 §4.5.4.1): outcome Expired,
// status 4.4.7, the last transient reply kept as the diagnostic (`last` may be null).
Attempt expired_attempt(const Attempt* last, TimeMs now_ms);

}  // namespace ferry::delivery
