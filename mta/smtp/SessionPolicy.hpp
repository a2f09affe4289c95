// SessionPolicy and SessionHooks: everything ServerSession needs from the daemon, as plain data
// and callbacks. Contract: no Config or queue types here; the daemon translates its Config into
// this struct per listener/connection, and the hooks are called synchronously from the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mta/smtp/DataReader.hpp"
#include "mta/smtp/Masquerade.hpp"
#include "mta/smtp/ReceivedHeader.hpp"
#include "mta/smtp/RecipientDecision.hpp"

namespace ferry::smtp {

struct SessionPolicy {
  std::string hostname = "localhost";            // greeting, EHLO and Received "by"
  std::uint64_t max_message_size = 25ull << 20;  // RFC 1870 SIZE; 0 = unlimited
  std::size_t max_recipients = 1000;             // RFC 5321 §4.5.3.1.8: at least 100
  std::size_t max_errors = 20;                   // then 421 4.7.0 and close; 0 = unlimited
  // Postfix's smtpd_junk_command_limit: NOOP, RSET, VRFY, HELP and refused commands; one more
  // is answered 421 4.7.0 and the session closes. Reset by each accepted message. 0 = unlimited.
  std::size_t junk_command_limit = 100;
  BareNewlinePolicy bare_newline = BareNewlinePolicy::Normalize;
  std::size_t max_received_headers = 50;  // more = mail loop, 554 5.4.6
  bool tls_available = false;             // STARTTLS may be offered (RFC 3207)
  bool tls_active = false;                // TLS is already on (implicit TLS, RFC 8314)
  bool implicit_tls = false;              // this is a submissions (465) listener
  std::string tls_version;                // with tls_active from the start: for Received
  std::string tls_cipher;
  bool auth_available = false;        // AUTH PLAIN LOGIN may be offered (RFC 4954)
  bool allow_plaintext_auth = false;  // offer AUTH without TLS (e.g. on loopback)
  bool auth_required = false;         // submission: MAIL needs AUTH first (RFC 6409 §4.3)
  std::string client_ip;              // peer address as text
  std::string client_hostname;        // verified reverse DNS name, empty if none
  bool client_may_relay = false;      // client IP is in the listener's relay networks
  // Mail from relay networks and authenticated clients is DKIM-signed: SignMessage before the
  // CommitMessage (the daemon decides per message whether a signer is configured).
  bool sign_messages = false;
  // Local submission (a relay listener's loopback client, sendmail -bs): the envelope sender and
  // the From: field leave with the masquerade domain. Inactive for everyone else.
  MasqueradeRule masquerade;
};

struct SessionHooks {
  // Returns the queue id of the next message. Called once per message when DATA (or the first
  // BDAT) is accepted, BEFORE the body arrives, because the Received header carries it. The same
  // id is reported in CommitMessage::queue_id and in "250 2.0.0 Ok: queued as <id>".
  std::function<QueueId()> next_queue_id;
  // The current wall time, for the Received header and Envelope::arrival_ms.
  std::function<WallTime()> now;
  // Recipient policy for one RCPT TO (typically RelayPolicy::decide bound to client_may_relay).
  // When unset, every recipient is refused with 554 5.7.1: never an open relay by accident.
  std::function<RecipientDecision(std::string_view address, bool authenticated)> decide_recipient;
  // Backpressure: false when the queue is short of space ([queue] min_free). MAIL is then
  // refused with 452 4.3.1 (RFC 3463 "mail system full"); when unset, MAIL is never refused so.
  std::function<bool()> queue_has_space;
};

}  // namespace ferry::smtp
