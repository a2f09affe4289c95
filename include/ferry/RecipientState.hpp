// RecipientState and Attempt: the per-recipient delivery record kept by the queue.
// Contract: plain data; the queue stores it, the delivery agent fills it, `queue show` prints it.
#pragma once

#include <cstdint>
#include <string>

#include "ferry/Clock.hpp"

namespace ferry {

enum class RecipientState : std::uint8_t {
  Pending = 0,    // waiting for its next attempt (or in flight when `leased`)
  Delivered = 1,  // a remote accepted it (final)
  Failed = 2,     // permanent failure or expiry; its bounce (if any) was queued with it (final)
  Held = 3,       // an operator put it on hold; never due until released
};

const char* to_string(RecipientState state) noexcept;
inline const char* to_string(RecipientState state) noexcept {
  switch (state) {
    case RecipientState::Pending:
      return "pending";
    case RecipientState::Delivered:
      return "delivered";
    case RecipientState::Failed:
      return "failed";
    case RecipientState::Held:
      return "held";
  }
  return "unknown";
}

// How one attempt for one recipient ended.
enum class AttemptOutcome : std::uint8_t {
  Started = 0,  // recorded before the attempt is made; replaced by the result if we live
  Delivered = 1,
  Transient = 2,
  Permanent = 3,
  Expired = 4,  // max age reached (RFC 5321 §4.5.4.1): failed with 4.4.7
};

inline const char* to_string(AttemptOutcome o) noexcept {
  switch (o) {
    case AttemptOutcome::Started:
      return "started";
    case AttemptOutcome::Delivered:
      return "delivered";
    case AttemptOutcome::Transient:
      return "deferred";
    case AttemptOutcome::Permanent:
      return "bounced";
    case AttemptOutcome::Expired:
      return "expired";
  }
  return "unknown";
}

// One attempt: when, against which host, and the remote's exact reply (the diagnosis).
struct Attempt {
  TimeMs time_ms = 0;
  AttemptOutcome outcome = AttemptOutcome::Started;
  std::string host;  // remote host name (MX), empty if none was reached
  std::string ip;    // remote address, empty if none
  std::uint16_t port = 0;
  int code = 0;        // reply code, 0 when there was no reply (network / DNS error)
  std::string status;  // enhanced status "x.y.z", may be empty
  std::string reply;   // full reply text, or the local error description
  // The connection's TLS: "TLSv1.3/TLS_AES_256_GCM_SHA384", "none" when it stayed plaintext,
  // empty when no connection was made (DNS failure, refused connect) or for older records.
  std::string tls;
  // `status` was made up by us from the reply code (x.0.0: the reply carried no enhanced code).
  // A report must then not quote it as part of the remote's reply (RFC 3464 §2.3.6).
  bool status_derived = false;
};

}  // namespace ferry
