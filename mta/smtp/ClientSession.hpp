// ClientSession: the outbound SMTP client state machine (RFC 5321 + PIPELINING, SIZE, 8BITMIME,
// SMTPUTF8, DSN, STARTTLS, AUTH, REQUIRETLS, LIMITS), sans-IO: server bytes in, actions out; one connection,
// one or more envelopes. Contract: every recipient handed to the session comes back exactly once in a
// ClientDone with a final Attempt; message data is sent only after a 354 (RFC 5321 §3.3).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/RecipientState.hpp"
#include "ferry/Reply.hpp"
#include "mta/smtp/ReplyParser.hpp"
#include "mta/smtp/ServerCapabilities.hpp"

namespace ferry::smtp {

// ---- Actions -------------------------------------------------------------------------------

// Write these octets. `message_data` marks the dot-stuffed body (terminating dot included, one
// write, so the dot never waits alone behind Nagle): time that write with the data-block timeout
// (RFC 5321 §4.5.3.2.5, 3 min); every other write is a command.
struct ClientSend {
  std::string bytes;
  bool message_data = false;
};

// Run the TLS client handshake now (the server said 220 to STARTTLS), then call tls_started();
// on handshake failure call connection_lost("TLS handshake failed: ...") and close.
struct ClientStartTls {};

// One recipient's result in this session.
struct RecipientResult {
  std::uint32_t index = 0;  // position in Envelope::recipients
  Attempt attempt;          // Delivered / Transient / Permanent, code, status, reply, host/ip/port
};

// A transaction (or the session) is over for these recipients: settle them now (one queue
// transaction). Recipients in `carried` are NOT resolved yet: the session itself sends them in
// the following transaction on this connection (RFC 5321 §4.5.3.1.10: 452 too many recipients,
// or ClientOptions::max_recipients) and reports them in a later ClientDone.
struct ClientDone {
  std::vector<RecipientResult> results;
  std::vector<std::uint32_t> carried;
  // The results come from a connection-level failure (greeting, EHLO/HELO, STARTTLS, AUTH, a 421,
  // a malformed reply, connection lost before the message data was sent) rather than from the
  // server's verdict on the recipients: the daemon may try them again at the next MX address.
  bool session_failure = false;
  // The server advertised DSN (RFC 3461): NOTIFY/ORCPT/RET/ENVID were passed on. When false and a
  // recipient asked NOTIFY=SUCCESS, the DSN composer owes a "relayed" notice (RFC 3461 §5.2.2).
  bool remote_dsn = false;
  // The server's MAILMAX (RFC 9422 §4) ends this connection before these recipients' turn: the
  // results are placeholders (transient, session_failure set); the daemon sends them at once on
  // a new connection to the same host, neither a deferral nor a sign of trouble.
  bool reconnect = false;
};

// Close the connection (after writing everything sent before).
struct ClientClose {};

using ClientAction = std::variant<ClientSend, ClientStartTls, ClientDone, ClientClose>;

// ---- Options -------------------------------------------------------------------------------

// TLS policy for this connection (the daemon maps the route's policy onto it).
enum class ClientTlsPolicy : std::uint8_t {
  None,           // never STARTTLS (plaintext retry after a failed opportunistic handshake)
  Opportunistic,  // STARTTLS when offered; if refused, continue in plaintext
  Required,       // STARTTLS must be offered and succeed, else transient 4.7.4
  Verify,         // as Required; certificate checks are the daemon's handshake
};

// The result of converting an 8-bit message for a server without 8BITMIME (RFC 6152 §3).
struct EightBitConversion {
  bool converted = false;
  std::string body;    // the 7-bit message when converted
  std::string status;  // when not: the enhanced status of the permanent failure ("5.6.3", "5.6.7")
  std::string reason;  // when not: why, for the reply text
};

// One event of the dialogue, reported as it happens (see ClientOptions::transcript).
enum class TranscriptKind : std::uint8_t {
  Sent,         // a command line queued for writing, without CRLF; credentials are hidden
  Received,     // a line the server wrote, without CRLF, as received (not escaped)
  Reply,        // a complete reply (after its lines), before the session acts on it
  MessageData,  // the message data was queued (after the 354): `octets` of body before dot-stuffing
};

struct TranscriptEvent {
  TranscriptKind kind = TranscriptKind::Sent;
  std::string_view line;         // Sent, Received
  const Reply* reply = nullptr;  // Reply
  std::string_view command;      // Reply: what it answers ("greeting", "EHLO", "RCPT TO", "end of data")
  std::size_t octets = 0;        // MessageData
};

// Called synchronously from the session's calls, in wire order: a reply's lines, then the reply,
// then the commands it caused. It must not call back into the session.
using TranscriptObserver = std::function<void(const TranscriptEvent&)>;

struct ClientOptions {
  std::string helo_name;  // our FQDN (or address literal) for EHLO/HELO (RFC 5321 §4.1.4)
  ClientTlsPolicy tls = ClientTlsPolicy::Opportunistic;
  bool tls_active = false;  // implicit TLS (RFC 8314 §3.3): never STARTTLS
  std::string auth_user;    // empty: no AUTH (RFC 4954)
  std::string auth_password;
  bool auth_over_plaintext = false;  // allow PLAIN/LOGIN without TLS (tests, loopback relays)
  std::size_t max_recipients = 0;    // RCPTs per transaction, 0 = no own limit (§4.5.4.1)
  // The connection's TLS is validated by the delivery's policy (a route with tls = "verify",
  // MTA-STS enforce, DANE): with TLS active and REQUIRETLS advertised, a REQUIRETLS message may
  // be sent (RFC 8689 §4.2.1); otherwise its recipients fail with 5.7.30.
  bool tls_validated = false;
  // TLS is demanded by the destination's published policy (DANE, RFC 7672 §2.2; MTA-STS
  // enforce, RFC 8461 §4.2), not only by our route: a server without STARTTLS is then deferred
  // with 4.7.5 (the policy's failure), not 4.7.4.
  bool policy_requires_tls = false;
  bool use_pipelining = true;  // pipeline when the server offers PIPELINING (RFC 2920)
  // Copied into every Attempt (the session knows no socket); the daemon sets them per target.
  std::string remote_host;
  std::string remote_ip;
  std::uint16_t remote_port = 0;
  // Time stamps for Attempts; empty → time_ms 0 (the daemon may fill it in).
  std::function<TimeMs()> clock;
  // Converts an 8-bit body for a server without 8BITMIME (and re-signs it); empty: no conversion,
  // such a message fails with 5.6.3 as RFC 6152 §3 allows.
  std::function<EightBitConversion(std::string_view body)> convert_8bit;
  // Every line sent and received, for a driver that shows the dialogue (ferry probe, sendmail -v).
  TranscriptObserver transcript;
  // Address verification (ferry probe): no SIZE on MAIL (no message will follow, RFC 1870 §6)
  // and, after the RCPT replies, no DATA (not even an RSET). The transaction ends with
  // each recipient's RCPT reply as its result; the session is Idle with the transaction still
  // open on the server (start_next sends RSET first, finish sends QUIT: both discard it,
  // RFC 5321 §4.1.1.5, §4.1.1.10).
  bool stop_after_rcpt = false;
  // All recipients or none (sendmail: its caller learns of a refusal from the exit code, so no
  // partial delivery): the first refused RCPT ends the transaction before DATA; the recipients
  // not refused get a transient 4.0.0 "not sent" result. Needs lock-step RCPTs: it turns
  // pipelining off, since a pipelined DATA's 354 would commit to sending a message.
  bool all_recipients_or_none = false;
};

// Which wait is running, so the daemon can apply the RFC 5321 §4.5.3.2 timeout for it.
enum class ClientPhase : std::uint8_t {
  Greeting,      // §4.5.3.2.1 initial 220 message: 5 min
  Command,       // EHLO/HELO, STARTTLS, AUTH, RSET, QUIT replies: 5 min (as MAIL)
  TlsHandshake,  // the daemon's handshake is running (its own deadline)
  Mail,          // §4.5.3.2.2 MAIL reply: 5 min
  Rcpt,          // §4.5.3.2.3 RCPT reply: 5 min
  DataInit,      // §4.5.3.2.4 DATA's 354: 2 min
  DataDone,      // §4.5.3.2.6 reply to the final dot: 10 min (the body write itself: data block)
  Idle,          // between envelopes (start_next / finish): the daemon's idle-connection timeout
  Closed,
};

const char* to_string(ClientPhase phase) noexcept;

// ---- Session -------------------------------------------------------------------------------
//
// How the daemon drives it:
//   connect (TLS first if implicit) → construct with the first envelope → loop:
//     read bytes → feed(bytes) → perform take_actions() in order:
//       ClientSend      write it (ClientSend::message_data: data-block timeout)
//       ClientStartTls  handshake, then tls_started()
//       ClientDone      settle results (queue), log; if session_failure, the unresolved ones may
//                       go to the next MX target
//       ClientClose     close the socket; the session is finished
//     the read deadline is the one for current_phase();
//   after a transaction the phase is Idle: start_next(next envelope) to reuse the connection
//   (RSET first), or finish() to QUIT;
//   on EOF, reset, timeout or TLS error: connection_lost(reason) → a ClientDone for everything
//   unresolved (transient, RFC 5321 §3.8 "as 451") and ClientClose.
class ClientSession {
 public:
  // `body` is a view: the daemon keeps the stored body alive until the ClientDone that resolves
  // the envelope's last recipient (or until the session closes). `recipients` are indexes into
  // envelope.recipients to deliver (a Scheduler batch); empty = all of them.
  ClientSession(ClientOptions options, Envelope envelope, std::string_view body,
                std::vector<std::uint32_t> recipients = {});

  void feed(std::string_view bytes);
  void tls_started();  // after ClientStartTls: EHLO again (RFC 3207 §4.2)
  void connection_lost(std::string_view reason = {});

  // Connection reuse: only in phase Idle (returns false otherwise, nothing happens). Sends RSET,
  // then the new transaction.
  bool start_next(Envelope envelope, std::string_view body, std::vector<std::uint32_t> recipients = {});
  // QUIT (RFC 5321 §4.1.1.10) and close. Outside Idle it abandons the work in progress: the
  // unresolved recipients are reported transient, as after connection_lost.
  void finish();

  bool has_action() const { return !actions_.empty(); }
  ClientAction next_action();
  std::deque<ClientAction> take_actions();

  ClientPhase current_phase() const;
  bool closed() const { return state_ == State::Closed; }
  bool idle() const { return state_ == State::Idle; }
  bool tls_active() const { return options_.tls_active; }
  bool authenticated() const { return authenticated_; }
  const ServerCapabilities& capabilities() const { return caps_; }
  const ClientOptions& options() const { return options_; }
  // Transactions completed with a reply to the final dot on this connection.
  std::size_t messages_sent() const { return messages_sent_; }
  // The server's MAILMAX (RFC 9422) is used up: no further transaction on this connection.
  bool mail_limit_reached() const { return caps_.mailmax > 0 && transactions_ >= caps_.mailmax; }

 private:
  enum class State {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    TlsHandshake,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass,
    AuthLoginDone,
    Transaction,
    Rset,
    Idle,
    Quit,
    Closed,
  };
  // One expected reply of the transaction, in command order (RFC 2920 §3.1).
  // LeadRset: the RSET that opens a pipelined group on a reused connection.
  enum class Expect { Mail, Rcpt, Data, Dot, Rset, LeadRset };

  struct Txn {
    std::vector<std::uint32_t> rcpts;  // sent in this transaction, in order
    std::size_t next_rcpt = 0;         // non-pipelined: next RCPT to send
    std::size_t rcpt_replies = 0;      // RCPT replies seen so far
    std::vector<std::uint32_t> accepted;
    std::vector<std::uint32_t> carried;   // refused as "too many": for the following transaction
    std::vector<std::uint32_t> overflow;  // beyond ClientOptions::max_recipients: likewise
    std::vector<RecipientResult> results;
    bool mail_ok = false;
    bool mail_failed = false;
    Reply mail_reply;
    bool too_many = false;                  // a 452/552 "too many recipients" was seen
    bool need_rset = false;                 // MAIL was accepted but no dot completed it
    std::vector<RecipientResult> verdicts;  // stop_after_rcpt: the accepted ones' RCPT replies
  };

  // setup
  void send(std::string bytes, bool data = false);
  void on_reply(const Reply& reply);
  void after_ehlo();
  void after_tls_decision();
  void begin_auth();
  void begin_transactions();
  void start_transaction(std::vector<std::uint32_t> rcpts);
  void on_auth_reply(const Reply& reply);
  void on_txn_reply(const Reply& reply);
  void on_rcpt_reply(const Reply& reply);
  void on_data_reply(const Reply& reply);
  void on_dot_reply(const Reply& reply);
  void send_next_rcpt();
  void after_rcpts();
  void end_transaction();
  // failures
  void fail_session(const Reply& reply, bool quit);
  void fail_session_local(int status_subject, int status_detail, std::string text, bool quit);
  void report_unresolved(const Attempt& attempt, bool session_failure);
  void protocol_failure(std::string message);
  // helpers
  Attempt attempt_from(const Reply& reply) const;
  Attempt attempt_local(AttemptOutcome outcome, std::string status, std::string text) const;
  Attempt transient_from(const Reply& reply) const;
  bool convert_body();  // for a server without 8BITMIME: false = cannot (downgrade_* say why)
  std::string require_tls_problem() const;  // RFC 8689 §4.2.1: why this hop cannot take it
  void apply_limits(std::vector<std::uint32_t>& rcpts);
  void reconnect_for(std::vector<std::uint32_t> carried);
  std::string mail_command() const;
  std::string rcpt_command(std::uint32_t index) const;
  bool is_too_many(const Reply& reply) const;
  void rcpt_refused_all_or_none(std::uint32_t index, const Reply& reply);
  void stop_before_data();
  // transcript
  std::string_view answering() const;
  void observe_sent(std::string_view bytes);
  void feed_observed(std::string_view bytes);
  void drain_replies();
  void emit_done(std::vector<RecipientResult> results, std::vector<std::uint32_t> carried,
                 bool session_failure);
  void reset_envelope(Envelope envelope, std::string_view body, std::vector<std::uint32_t> recipients);

  ClientOptions options_;
  Envelope envelope_;
  std::string_view body_;
  std::vector<std::uint32_t> batch_;  // recipients of the current envelope still to resolve
  bool body_8bit_ = false;
  std::string converted_;         // the 7-bit form of the body, when it was converted
  std::string downgrade_status_;  // why it was not (set by convert_body)
  std::string downgrade_reason_;
  ReplyParser parser_;
  ServerCapabilities caps_;
  State state_ = State::Greeting;
  std::deque<Expect> expect_;
  Txn txn_;
  bool pipelining_ = false;
  bool authenticated_ = false;
  std::vector<std::uint32_t> rset_then_;  // recipients to start with once RSET is answered
  bool lead_rset_ = false;                // the next pipelined group opens with RSET
  std::size_t messages_sent_ = 0;
  std::size_t transactions_ = 0;  // MAIL commands sent on this connection (RFC 9422 MAILMAX)
  std::deque<ClientAction> actions_;
  std::string observed_line_;  // a server line not complete yet (transcript only)
};

}  // namespace ferry::smtp
