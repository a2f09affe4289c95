// ReceivedHeader: the RFC 5321 §4.4 trace header Ferry prepends to every accepted message.
// Contract: pure (time and queue id are inputs); the result is "Received: ...\r\n" with folded
// continuation lines starting with a TAB; the date is RFC 5322 §3.3 with a numeric zone; the
// HELO name, client name and recipient are escaped (ferry/text/SafeText.hpp), never raw.
#pragma once

#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"

namespace ferry::smtp {

// A wall-clock instant: Unix milliseconds (UTC) plus the local zone offset to print.
struct WallTime {
  TimeMs unix_ms = 0;
  int utc_offset_minutes = 0;  // e.g. +60 for +0100, -300 for -0500
};

struct ReceivedInfo {
  std::string_view helo;         // EHLO/HELO argument
  std::string_view client_name;  // reverse DNS name, empty when unknown (the IP is shown)
  std::string_view client_ip;    // "192.0.2.1" / "2001:db8::1"
  std::string_view hostname;     // our name
  std::string_view protocol;     // RFC 3848 / RFC 6531 "with" value: ESMTPS, UTF8SMTPSA, ...
  QueueId queue_id;              // printed as its 16 hex digits
  std::string_view tls_version;  // empty when no TLS
  std::string_view tls_cipher;
  std::string_view recipient;  // the "for" clause: only when exactly one recipient, else empty
  WallTime time;
};

// RFC 5322 §3.3 date-time, e.g. "Mon, 1 Jan 2024 00:00:00 +0000".
std::string format_rfc5322_date(WallTime time);

// RFC 3848 / RFC 6531 §3.7.3 "with" protocol name.
std::string received_protocol(bool esmtp, bool tls, bool authenticated, bool smtputf8);

std::string build_received_header(const ReceivedInfo& info);

}  // namespace ferry::smtp
