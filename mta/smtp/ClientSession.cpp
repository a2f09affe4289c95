// ClientSession: greeting → EHLO/HELO → STARTTLS → AUTH → transactions (pipelined or lock-step)
// → RSET/next envelope or QUIT. Replies are matched to commands through an expectation queue.
#include "mta/smtp/ClientSession.hpp"

#include <algorithm>
#include <utility>

#include "ferry/text/Ascii.hpp"
#include "ferry/text/Xtext.hpp"
#include "mta/smtp/Base64.hpp"
#include "mta/smtp/DotStuffer.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers
namespace {

bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return is_non_ascii(c); });
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

// RFC 3461 §4.1 NOTIFY value.
std::string notify_value(std::uint8_t notify) {
  if (notify & kNotifyNever) return "NEVER";
  std::string out;
  auto add = [&](const char* word) {
    if (!out.empty()) out += ',';
    out += word;
  };
  if (notify & kNotifySuccess) add("SUCCESS");
  if (notify & kNotifyFailure) add("FAILURE");
  if (notify & kNotifyDelay) add("DELAY");
  return out;
}

// RFC 5321 §4.2.1: the first digit decides; RFC 3463 §2: the enhanced class agrees with it;
// unknown codes are transient (§4.3.2). Mirrors mta/delivery's ReplyClassifier (which this
// module may not link); the daemon can re-classify Attempt.code/status with it if it wants.
AttemptOutcome outcome_for(int code) {
  if (code >= 200 && code < 300) return AttemptOutcome::Delivered;
  if (code >= 500 && code < 600) return AttemptOutcome::Permanent;
  return AttemptOutcome::Transient;
}

std::string status_for(const Reply& reply, int klass) {
  if (reply.status.present()) {
    EnhancedStatus s = reply.status;
    s.klass = static_cast<std::uint8_t>(klass);
    return s.str();
  }
  return std::to_string(klass) + ".0.0";
}

}  // namespace

const char* to_string(ClientPhase phase) noexcept {
  switch (phase) {
    case ClientPhase::Greeting:
      return "greeting";
    case ClientPhase::Command:
      return "command";
    case ClientPhase::TlsHandshake:
      return "tls_handshake";
    case ClientPhase::Mail:
      return "mail";
    case ClientPhase::Rcpt:
      return "rcpt";
    case ClientPhase::DataInit:
      return "data_init";
    case ClientPhase::DataDone:
      return "data_done";
    case ClientPhase::Idle:
      return "idle";
    case ClientPhase::Closed:
      return "closed";
  }
  return "unknown";
}

ClientSession::ClientSession(ClientOptions options, Envelope envelope, std::string_view body,
                             std::vector<std::uint32_t> recipients)
    : options_(std::move(options)) {
  reset_envelope(std::move(envelope), body, std::move(recipients));
}

void ClientSession::reset_envelope(Envelope envelope, std::string_view body,
                                   std::vector<std::uint32_t> recipients) {
  envelope_ = std::move(envelope);
  converted_.clear();
  body_ = body;
  body_8bit_ = has_8bit(body);
  if (recipients.empty()) {
    for (std::uint32_t i = 0; i < envelope_.recipients.size(); ++i) recipients.push_back(i);
  }
  std::erase_if(recipients, [&](std::uint32_t i) { return i >= envelope_.recipients.size(); });
  batch_ = std::move(recipients);
}

// ---- actions -------------------------------------------------------------------------------

void ClientSession::send(std::string bytes, bool data) {
  if (options_.transcript && !data) observe_sent(bytes);
  actions_.emplace_back(ClientSend{std::move(bytes), data});
}

ClientAction ClientSession::next_action() {
  ClientAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::deque<ClientAction> ClientSession::take_actions() { return std::exchange(actions_, {}); }

ClientPhase ClientSession::current_phase() const {
  switch (state_) {
    case State::Greeting:
      return ClientPhase::Greeting;
    case State::TlsHandshake:
      return ClientPhase::TlsHandshake;
    case State::Idle:
      return ClientPhase::Idle;
    case State::Closed:
      return ClientPhase::Closed;
    case State::Transaction:
      if (expect_.empty()) return ClientPhase::Command;
      switch (expect_.front()) {
        case Expect::Mail:
          return ClientPhase::Mail;
        case Expect::Rcpt:
          return ClientPhase::Rcpt;
        case Expect::Data:
          return ClientPhase::DataInit;
        case Expect::Dot:
          return ClientPhase::DataDone;
        case Expect::Rset:
        case Expect::LeadRset:
          return ClientPhase::Command;
      }
      return ClientPhase::Command;
    default:
      return ClientPhase::Command;
  }
}

// ---- attempts ------------------------------------------------------------------------------

Attempt ClientSession::attempt_local(AttemptOutcome outcome, std::string status, std::string text) const {
  Attempt a;
  a.time_ms = options_.clock ? options_.clock() : 0;
  a.outcome = outcome;
  a.host = options_.remote_host;
  a.ip = options_.remote_ip;
  a.port = options_.remote_port;
  a.status = std::move(status);
  a.reply = std::move(text);
  return a;
}

Attempt ClientSession::attempt_from(const Reply& reply) const {
  const AttemptOutcome outcome = outcome_for(reply.code);
  const int klass = reply.code / 100;
  std::string status = (klass == 2 || klass == 4 || klass == 5) ? status_for(reply, klass) : "4.5.0";
  Attempt a = attempt_local(outcome, std::move(status), reply.text);
  a.code = reply.code;
  a.status_derived = !reply.status.present();
  return a;
}

Attempt ClientSession::transient_from(const Reply& reply) const {
  Attempt a = attempt_local(AttemptOutcome::Transient, status_for(reply, 4), reply.text);
  a.code = reply.code;
  a.status_derived = !reply.status.present();
  return a;
}

void ClientSession::emit_done(std::vector<RecipientResult> results, std::vector<std::uint32_t> carried,
                              bool session_failure) {
  if (results.empty() && carried.empty()) return;
  for (const auto& r : results) std::erase(batch_, r.index);
  ClientDone done;
  done.results = std::move(results);
  done.carried = std::move(carried);
  done.session_failure = session_failure;
  done.remote_dsn = caps_.dsn;
  actions_.emplace_back(std::move(done));
}

void ClientSession::report_unresolved(const Attempt& attempt, bool session_failure) {
  // Verdicts already given in this transaction (RCPT refusals) are real: report them as such.
  emit_done(std::exchange(txn_.results, {}), {}, false);
  std::vector<RecipientResult> rest;
  for (std::uint32_t i : batch_) rest.push_back(RecipientResult{i, attempt});
  emit_done(std::move(rest), {}, session_failure);
  batch_.clear();
  txn_ = Txn{};
  expect_.clear();
}

void ClientSession::fail_session(const Reply& reply, bool quit) {
  report_unresolved(transient_from(reply), true);
  if (quit) {
    send("QUIT\r\n");
    state_ = State::Quit;
  } else {
    // RFC 5321 §3.8: after a 421 the server closes; nothing more is sent.
    actions_.emplace_back(ClientClose{});
    state_ = State::Closed;
  }
}

void ClientSession::fail_session_local(int subject, int detail, std::string text, bool quit) {
  report_unresolved(
      attempt_local(AttemptOutcome::Transient, "4." + std::to_string(subject) + "." + std::to_string(detail),
                    std::move(text)),
      true);
  if (quit) {
    send("QUIT\r\n");
    state_ = State::Quit;
  } else {
    actions_.emplace_back(ClientClose{});
    state_ = State::Closed;
  }
}

void ClientSession::protocol_failure(std::string message) {
  // The stream cannot be trusted: no QUIT, just close (RFC 5321 §4.3.2 copes with unknown codes;
  // this is for replies that are not replies at all).
  fail_session_local(5, 0, "malformed reply from server: " + message, false);
}

void ClientSession::connection_lost(std::string_view reason) {
  if (state_ == State::Closed) return;
  const ClientPhase phase = current_phase();
  if (!batch_.empty() || !txn_.results.empty()) {
    std::string text = "connection lost while waiting for ";
    text += to_string(phase);
    if (!reason.empty()) {
      text += ": ";
      text += reason;
    }
    // RFC 5321 §3.8: handled as a temporary failure (451); RFC 3463 X.4.2 bad connection. Once the
    // message data went out the server may have taken it: no immediate retry at another MX.
    const bool data_sent = state_ == State::Transaction && !expect_.empty() && expect_.front() == Expect::Dot;
    report_unresolved(attempt_local(AttemptOutcome::Transient, "4.4.2", std::move(text)), !data_sent);
  }
  actions_.emplace_back(ClientClose{});
  state_ = State::Closed;
}

void ClientSession::finish() {
  switch (state_) {
    case State::Closed:
    case State::Quit:
      return;
    case State::Idle:
      send("QUIT\r\n");  // RFC 5321 §4.1.1.10
      state_ = State::Quit;
      return;
    default:
      report_unresolved(attempt_local(AttemptOutcome::Transient, "4.4.2", "session abandoned by the client"),
                        true);
      if (state_ == State::TlsHandshake) {
        actions_.emplace_back(ClientClose{});
        state_ = State::Closed;
        return;
      }
      send("QUIT\r\n");
      state_ = State::Quit;
  }
}

bool ClientSession::start_next(Envelope envelope, std::string_view body,
                               std::vector<std::uint32_t> recipients) {
  if (state_ != State::Idle) return false;
  reset_envelope(std::move(envelope), body, std::move(recipients));
  if (batch_.empty()) return true;  // nothing to do: stay idle
  // RSET before reusing the connection: clears any half-open transaction and proves the
  // connection is still alive before the next MAIL (RFC 5321 §4.1.1.5). With PIPELINING it opens
  // the next command group (RFC 2920 §3.1: RSET may stand anywhere in a group), which saves the
  // reused connection a round trip per message.
  if (caps_.pipelining && options_.use_pipelining && !options_.all_recipients_or_none) {
    lead_rset_ = true;
    start_transaction(batch_);
    return true;
  }
  send("RSET\r\n");
  rset_then_ = batch_;
  state_ = State::Rset;
  return true;
}

// ---- input ---------------------------------------------------------------------------------

void ClientSession::feed(std::string_view bytes) {
  // During the handshake the daemon owns the stream; plaintext bytes that arrived after the 220
  // to STARTTLS are dropped (RFC 3207 §4.2, command injection).
  if (state_ == State::Closed || state_ == State::TlsHandshake) return;
  if (options_.transcript) {
    feed_observed(bytes);
  } else {
    parser_.feed(bytes);
    drain_replies();
  }
  if (state_ == State::TlsHandshake) {
    parser_.reset();
    observed_line_.clear();
  }
}

void ClientSession::drain_replies() {
  while (state_ != State::Closed && state_ != State::TlsHandshake) {
    auto r = parser_.next();
    if (!r.ok()) {
      protocol_failure(r.error().message);
      return;
    }
    if (!*r) return;
    if (options_.transcript) {
      TranscriptEvent e;
      e.kind = TranscriptKind::Reply;
      e.reply = &**r;
      e.command = answering();
      options_.transcript(e);
    }
    on_reply(**r);
  }
}

void ClientSession::tls_started() {
  if (state_ != State::TlsHandshake) return;
  options_.tls_active = true;
  parser_.reset();
  observed_line_.clear();
  caps_ = {};  // RFC 3207 §4.2: forget everything learnt before TLS
  send("EHLO " + options_.helo_name + "\r\n");
  state_ = State::Ehlo;
}

void ClientSession::on_reply(const Reply& reply) {
  if (state_ == State::Quit) {  // 221 or anything: done
    actions_.emplace_back(ClientClose{});
    state_ = State::Closed;
    return;
  }
  if (state_ == State::Idle) {  // unsolicited (typically "421 idle timeout"): the server is leaving
    actions_.emplace_back(ClientClose{});
    state_ = State::Closed;
    return;
  }
  if (reply.code == 421) {  // §3.8: service closing, whatever command it answers
    fail_session(reply, false);
    return;
  }
  switch (state_) {
    case State::Greeting:
      if (reply.code / 100 != 2) {  // 554 or anything else: transient for all, next MX
        fail_session(reply, true);
        return;
      }
      send("EHLO " + options_.helo_name + "\r\n");  // §4.1.4: our FQDN
      state_ = State::Ehlo;
      return;
    case State::Ehlo:
      if (reply.code / 100 == 2) {
        caps_ = parse_ehlo(reply.text);
        after_ehlo();
        return;
      }
      if (reply.code / 100 == 5) {  // §3.2: EHLO not recognised (500/502...) → HELO
        send("HELO " + options_.helo_name + "\r\n");
        state_ = State::Helo;
        return;
      }
      fail_session(reply, true);
      return;
    case State::Helo:
      if (reply.code / 100 != 2) {
        fail_session(reply, true);
        return;
      }
      caps_ = {};
      after_ehlo();
      return;
    case State::StartTls:
      if (reply.code / 100 == 2) {  // 220: handshake now, nothing else is read in plaintext
        actions_.emplace_back(ClientStartTls{});
        state_ = State::TlsHandshake;
        return;
      }
      if (options_.tls == ClientTlsPolicy::Required || options_.tls == ClientTlsPolicy::Verify) {
        fail_session(reply, true);
        return;
      }
      begin_auth();  // opportunistic: carry on in plaintext
      return;
    case State::AuthPlain:
    case State::AuthLoginUser:
    case State::AuthLoginPass:
    case State::AuthLoginDone:
      on_auth_reply(reply);
      return;
    case State::Rset:
      if (reply.code / 100 != 2) {
        fail_session(reply, true);
        return;
      }
      txn_.need_rset = false;
      start_transaction(std::exchange(rset_then_, {}));
      return;
    case State::Transaction:
      on_txn_reply(reply);
      return;
    default:
      return;
  }
}

// RFC 4954 §4: PLAIN with its initial response, or LOGIN's two 334 challenges.
void ClientSession::on_auth_reply(const Reply& reply) {
  switch (state_) {
    case State::AuthPlain:
      if (reply.code == 334) {  // server ignored the initial response: send it again
        send(base64_encode(std::string("\0", 1) + options_.auth_user + std::string("\0", 1) +
                           options_.auth_password) +
             "\r\n");
        return;
      }
      [[fallthrough]];
    case State::AuthLoginDone:
      if (reply.code / 100 == 2) {
        authenticated_ = true;
        begin_transactions();
        return;
      }
      // 535 bad credentials, 454, ...: our configuration problem, never a bounce.
      fail_session(reply, true);
      return;
    case State::AuthLoginUser:
    case State::AuthLoginPass:
      if (reply.code != 334) {
        fail_session(reply, true);
        return;
      }
      if (state_ == State::AuthLoginUser) {
        send(base64_encode(options_.auth_user) + "\r\n");
        state_ = State::AuthLoginPass;
      } else {
        send(base64_encode(options_.auth_password) + "\r\n");
        state_ = State::AuthLoginDone;
      }
      return;
    default:
      return;
  }
}

void ClientSession::after_ehlo() {
  const bool tls_required =
      options_.tls == ClientTlsPolicy::Required || options_.tls == ClientTlsPolicy::Verify;
  if (!options_.tls_active && options_.tls != ClientTlsPolicy::None && caps_.starttls) {
    send("STARTTLS\r\n");  // RFC 3207 §4
    state_ = State::StartTls;
    return;
  }
  if (!options_.tls_active && tls_required && options_.policy_requires_tls) {
    fail_session_local(
        7, 5, "TLS is required by the destination's published policy, but was not offered by host", true);
    return;
  }
  if (!options_.tls_active && tls_required) {
    fail_session_local(7, 4, "TLS is required, but was not offered by host", true);
    return;
  }
  begin_auth();
}

void ClientSession::begin_auth() {
  if (options_.auth_user.empty() || authenticated_) {
    begin_transactions();
    return;
  }
  if (!options_.tls_active && !options_.auth_over_plaintext) {
    fail_session_local(7, 0, "refusing to send AUTH credentials without TLS", true);
    return;
  }
  // RFC 4954 §4: PLAIN with an initial response (one round trip), else LOGIN.
  if (caps_.auth_plain) {
    send("AUTH PLAIN " +
         base64_encode(std::string("\0", 1) + options_.auth_user + std::string("\0", 1) +
                       options_.auth_password) +
         "\r\n");
    state_ = State::AuthPlain;
  } else if (caps_.auth_login) {
    send("AUTH LOGIN\r\n");
    state_ = State::AuthLoginUser;
  } else {
    fail_session_local(7, 0, "credentials configured, but the server offers no AUTH PLAIN or LOGIN", true);
  }
}

void ClientSession::begin_transactions() {
  if (batch_.empty()) {
    state_ = State::Idle;
    return;
  }
  start_transaction(batch_);
}

// ---- transactions --------------------------------------------------------------------------

bool ClientSession::convert_body() {
  downgrade_status_ = "5.6.3";
  downgrade_reason_ = "8-bit message body, but the server does not support 8BITMIME";
  if (!options_.convert_8bit) return false;
  EightBitConversion c = options_.convert_8bit(body_);
  if (!c.converted) {
    if (!c.status.empty()) downgrade_status_ = std::move(c.status);
    if (!c.reason.empty()) downgrade_reason_ += " and the message cannot be converted: " + c.reason;
    return false;
  }
  // The converted body serves every further transaction of this envelope (carried recipients).
  converted_ = std::move(c.body);
  body_ = converted_;
  body_8bit_ = false;
  return true;
}

std::string ClientSession::mail_command() const {
  std::string cmd = "MAIL FROM:<" + envelope_.reverse_path + ">";
  // RFC 1870 §6; address verification sends no message, so it announces no size.
  if (caps_.size && !options_.stop_after_rcpt) cmd += " SIZE=" + std::to_string(body_.size());
  const bool declared_8bit =
      envelope_.body_type == BodyType::EightBitMime || envelope_.body_type == BodyType::BinaryMime;
  if (caps_.eightbitmime && (body_8bit_ || declared_8bit)) cmd += " BODY=8BITMIME";  // RFC 6152 §3
  if (caps_.smtputf8 && (envelope_.smtputf8 || has_non_ascii(envelope_.reverse_path))) cmd += " SMTPUTF8";
  if (envelope_.require_tls && caps_.requiretls) cmd += " REQUIRETLS";  // RFC 8689 §4.2.1
  if (caps_.dsn) {  // RFC 3461 §4.3, §4.4: only to a DSN-capable server
    if (envelope_.ret == DsnRet::Full) cmd += " RET=FULL";
    if (envelope_.ret == DsnRet::Hdrs) cmd += " RET=HDRS";
    if (!envelope_.envid.empty()) cmd += " ENVID=" + xtext_encode(envelope_.envid);
  }
  return cmd + "\r\n";
}

std::string ClientSession::rcpt_command(std::uint32_t index) const {
  const EnvelopeRecipient& r = envelope_.recipients[index];
  std::string cmd = "RCPT TO:<" + r.address + ">";
  if (caps_.dsn) {  // RFC 3461 §4.1, §4.2: passed on unchanged
    if (r.notify != kNotifyUnspecified) cmd += " NOTIFY=" + notify_value(r.notify);
    if (!r.orcpt.empty()) cmd += " ORCPT=" + r.orcpt;
  }
  return cmd + "\r\n";
}

bool ClientSession::is_too_many(const Reply& reply) const {
  // RFC 5321 §4.5.3.1.10: 452 (or the older 552) to an RCPT after others were accepted means
  // "too many recipients": the rest go in a following transaction. A 452 with nothing accepted
  // yet is an ordinary transient failure of that recipient (e.g. mailbox full, 4.2.2).
  if (txn_.accepted.empty()) return false;
  if (reply.code == 452) return true;
  if (reply.code == 552) {
    const bool x53 = reply.status.present() && reply.status.subject == 5 && reply.status.detail == 3;
    return x53 || icontains(reply.text, "too many recipients");
  }
  return false;
}

void ClientSession::start_transaction(std::vector<std::uint32_t> rcpts) {
  txn_ = Txn{};
  expect_.clear();
  state_ = State::Transaction;
  auto fail_all = [&](AttemptOutcome outcome, const char* status, std::string text) {
    for (std::uint32_t i : rcpts)
      txn_.results.push_back(RecipientResult{i, attempt_local(outcome, status, text)});
    rcpts.clear();
  };
  // Checks that need no round trip: refuse locally what the server cannot take. An 8-bit body for
  // a 7-bit server is converted first, so SIZE is checked on what would be sent.
  const bool unconvertible = body_8bit_ && !caps_.eightbitmime && !convert_body();
  if (caps_.size && caps_.size_limit > 0 && body_.size() > caps_.size_limit) {
    // RFC 1870 §6: do not send a message larger than the announced SIZE.
    fail_all(AttemptOutcome::Permanent, "5.3.4",
             "message size " + std::to_string(body_.size()) + " exceeds the server's limit of " +
                 std::to_string(caps_.size_limit) + " octets");
  } else if (unconvertible) {
    // RFC 6152 §3 / RFC 5321 §2.4: no 8-bit data to a server without 8BITMIME; what could not be
    // converted to 7 bits fails for good.
    fail_all(AttemptOutcome::Permanent, downgrade_status_.c_str(), downgrade_reason_);
  } else if (has_non_ascii(envelope_.reverse_path) && !caps_.smtputf8) {
    // RFC 6531 §3.2: a UTF-8 envelope needs SMTPUTF8.
    fail_all(AttemptOutcome::Permanent, "5.6.7",
             "UTF-8 sender address, but the server does not support SMTPUTF8");
  } else if (envelope_.require_tls && !require_tls_problem().empty()) {
    // RFC 8689 §4.2.1: not this hop, and not later either; §5: 5.7.30 names the extension.
    fail_all(AttemptOutcome::Permanent, "5.7.30", "REQUIRETLS support required: " + require_tls_problem());
  } else if (!caps_.smtputf8) {
    std::erase_if(rcpts, [&](std::uint32_t i) {
      if (!has_non_ascii(envelope_.recipients[i].address)) return false;
      txn_.results.push_back(RecipientResult{
          i, attempt_local(AttemptOutcome::Permanent, "5.6.7",
                           "UTF-8 recipient address, but the server does not support SMTPUTF8")});
      return true;
    });
  }
  apply_limits(rcpts);
  if (rcpts.empty()) {
    end_transaction();
    return;
  }
  ++transactions_;
  txn_.rcpts = std::move(rcpts);
  pipelining_ = caps_.pipelining && options_.use_pipelining && !options_.all_recipients_or_none;
  if (pipelining_) {
    // RFC 2920 §3.1: MAIL, every RCPT and DATA in one write; DATA ends the group.
    std::string group;
    if (std::exchange(lead_rset_, false)) {
      group = "RSET\r\n";
      expect_.push_back(Expect::LeadRset);
    }
    group += mail_command();
    expect_.push_back(Expect::Mail);
    for (std::uint32_t i : txn_.rcpts) {
      group += rcpt_command(i);
      expect_.push_back(Expect::Rcpt);
    }
    if (!options_.stop_after_rcpt) {
      group += "DATA\r\n";
      expect_.push_back(Expect::Data);
    }
    txn_.next_rcpt = txn_.rcpts.size();
    send(std::move(group));
  } else {
    send(mail_command());
    expect_.push_back(Expect::Mail);
  }
}

std::string ClientSession::require_tls_problem() const {
  if (!options_.tls_active) return "the connection to the next hop is not encrypted (TLS did not start)";
  if (!options_.tls_validated)
    return "the next hop's TLS is not validated (no MTA-STS enforce, DANE or verifying route)";
  if (!caps_.requiretls) return "the next hop does not advertise REQUIRETLS";
  return {};
}

// Our own recipient limit and the server's RFC 9422 limits: RCPTDOMAINMAX keeps the first
// domains met, RCPTMAX (or our limit, the smaller) the first recipients; the rest wait for the
// following transaction on this connection.
void ClientSession::apply_limits(std::vector<std::uint32_t>& rcpts) {
  if (caps_.rcptdomainmax > 0) {
    std::vector<std::string_view> domains;
    std::vector<std::uint32_t> kept;
    for (std::uint32_t i : rcpts) {
      const std::string_view address = envelope_.recipients[i].address;
      const std::string_view domain = address.substr(address.rfind('@') + 1);
      const bool known =
          std::any_of(domains.begin(), domains.end(), [&](std::string_view d) { return iequals(d, domain); });
      if (!known && domains.size() >= caps_.rcptdomainmax) {
        txn_.overflow.push_back(i);
        continue;
      }
      if (!known) domains.push_back(domain);
      kept.push_back(i);
    }
    rcpts = std::move(kept);
  }
  std::size_t limit = options_.max_recipients;
  if (caps_.rcptmax > 0 && (limit == 0 || caps_.rcptmax < limit)) limit = caps_.rcptmax;
  if (limit > 0 && rcpts.size() > limit) {
    txn_.overflow.insert(txn_.overflow.begin(), rcpts.begin() + static_cast<std::ptrdiff_t>(limit),
                         rcpts.end());
    rcpts.resize(limit);
  }
}

// RFC 9422 §5: no more transactions than MAILMAX on one connection; the recipients still waiting
// go to a new connection (QUIT this one).
void ClientSession::reconnect_for(std::vector<std::uint32_t> carried) {
  std::vector<RecipientResult> rest;
  const Attempt a = attempt_local(
      AttemptOutcome::Transient, "4.5.3",
      "the server's MAILMAX of " + std::to_string(caps_.mailmax) + " transactions per connection is reached");
  ClientDone done;
  for (std::uint32_t i : carried) done.results.push_back(RecipientResult{i, a});
  done.session_failure = true;
  done.remote_dsn = caps_.dsn;
  done.reconnect = true;
  actions_.emplace_back(std::move(done));
  batch_.clear();
  txn_ = Txn{};
  send("QUIT\r\n");
  state_ = State::Quit;
}

void ClientSession::send_next_rcpt() {
  send(rcpt_command(txn_.rcpts[txn_.next_rcpt++]));
  expect_.push_back(Expect::Rcpt);
}

void ClientSession::after_rcpts() {
  if (options_.stop_after_rcpt) {
    stop_before_data();
  } else if (!txn_.accepted.empty()) {
    send("DATA\r\n");
    expect_.push_back(Expect::Data);
  } else {
    // Every RCPT failed: no DATA; RSET closes the transaction MAIL opened (§4.1.1.5).
    send("RSET\r\n");
    expect_.push_back(Expect::Rset);
  }
}

void ClientSession::on_txn_reply(const Reply& reply) {
  if (expect_.empty()) {
    protocol_failure("unexpected reply " + std::to_string(reply.code));
    return;
  }
  const Expect what = expect_.front();
  expect_.pop_front();
  switch (what) {
    case Expect::Mail:
      if (reply.code / 100 == 2) {
        txn_.mail_ok = true;
        txn_.need_rset = true;
        if (!pipelining_) send_next_rcpt();
        return;
      }
      txn_.mail_failed = true;
      txn_.mail_reply = reply;
      if (!pipelining_) end_transaction();
      return;  // pipelined: the RCPT and DATA replies (503s) are still to come

    case Expect::Rcpt:
      on_rcpt_reply(reply);
      return;
    case Expect::Data:
      on_data_reply(reply);
      return;
    case Expect::Dot:
      on_dot_reply(reply);
      return;
    case Expect::Rset:
      txn_.need_rset = false;
      end_transaction();
      return;
    case Expect::LeadRset:
      // Refused as a lone RSET would be (State::Rset): the connection is no good for this
      // envelope, whatever the server makes of the commands behind it; no data is sent.
      if (reply.code / 100 != 2) fail_session(reply, true);
      return;
  }
}

void ClientSession::on_rcpt_reply(const Reply& reply) {
  const std::uint32_t index = txn_.rcpts[txn_.rcpt_replies++];
  // Pipelined address verification ends at the last RCPT reply (no DATA was sent).
  const bool last_verified =
      pipelining_ && options_.stop_after_rcpt && txn_.rcpt_replies == txn_.rcpts.size();
  if (txn_.mail_failed) {  // the MAIL reply decides for everyone
    if (last_verified) stop_before_data();
    return;
  }
  if (reply.code / 100 == 2) {
    txn_.accepted.push_back(index);
    if (options_.stop_after_rcpt) txn_.verdicts.push_back(RecipientResult{index, attempt_from(reply)});
  } else if (options_.all_recipients_or_none) {
    rcpt_refused_all_or_none(index, reply);
    return;
  } else if (is_too_many(reply)) {
    txn_.carried.push_back(index);
    txn_.too_many = true;
  } else {
    txn_.results.push_back(RecipientResult{index, attempt_from(reply)});
  }
  if (!pipelining_) {
    if (txn_.too_many) {
      // Do not knock on a full door: the unsent ones go to the next transaction too.
      txn_.carried.insert(txn_.carried.end(),
                          txn_.rcpts.begin() + static_cast<std::ptrdiff_t>(txn_.next_rcpt), txn_.rcpts.end());
      txn_.rcpts.resize(txn_.next_rcpt);
      after_rcpts();
    } else if (txn_.next_rcpt < txn_.rcpts.size()) {
      send_next_rcpt();
    } else {
      after_rcpts();
    }
  } else if (last_verified) {
    stop_before_data();
  }
}

// RFC 5321 §3.3: the reply to DATA; only a 354 lets the message go.
void ClientSession::on_data_reply(const Reply& reply) {
  if (reply.code / 100 == 3) {
    // §3.3: only now may data be sent. With no accepted recipient (a pipelining server that
    // still said 354) send an empty message so the server returns to command state.
    const bool message = !txn_.accepted.empty() && !txn_.mail_failed;
    if (options_.transcript) {
      TranscriptEvent e;
      e.kind = TranscriptKind::MessageData;
      e.octets = message ? body_.size() : 0;
      options_.transcript(e);
    }
    send(message ? dot_stuff(body_) : std::string(".\r\n"), true);
    expect_.push_back(Expect::Dot);
    return;
  }
  for (std::uint32_t i : txn_.accepted) {
    Attempt a =
        reply.code / 100 == 2
            ? attempt_local(AttemptOutcome::Transient, "4.5.0",
                            "unexpected reply to DATA: " + std::to_string(reply.code) + " " + reply.text)
            : attempt_from(reply);
    if (reply.code / 100 == 2) {
      a.code = reply.code;
      a.status_derived = true;  // 4.5.0 is ours, not the server's
    }
    txn_.results.push_back(RecipientResult{i, std::move(a)});
  }
  txn_.accepted.clear();
  end_transaction();
}

// RFC 5321 §4.2.5: the reply to the final dot applies to every accepted recipient.
void ClientSession::on_dot_reply(const Reply& reply) {
  txn_.need_rset = false;
  if (!txn_.accepted.empty() && !txn_.mail_failed) {
    ++messages_sent_;
    for (std::uint32_t i : txn_.accepted) {
      Attempt a = reply.code / 100 == 3
                      ? attempt_local(AttemptOutcome::Transient, "4.5.0",
                                      "unexpected reply after data: " + std::to_string(reply.code))
                      : attempt_from(reply);
      a.code = reply.code;
      if (reply.code / 100 == 3) a.status_derived = true;  // 4.5.0 is ours, not the server's
      txn_.results.push_back(RecipientResult{i, std::move(a)});
    }
    txn_.accepted.clear();
  }
  end_transaction();
}

void ClientSession::stop_before_data() {
  // Address verification: the RCPT reply is each accepted recipient's verdict. The transaction
  // stays open on the server; the next RSET or QUIT discards it.
  if (!txn_.mail_failed) {
    txn_.results.insert(txn_.results.end(), std::make_move_iterator(txn_.verdicts.begin()),
                        std::make_move_iterator(txn_.verdicts.end()));
  }
  txn_.verdicts.clear();
  txn_.accepted.clear();
  end_transaction();
}

void ClientSession::rcpt_refused_all_or_none(std::uint32_t index, const Reply& reply) {
  txn_.results.push_back(RecipientResult{index, attempt_from(reply)});
  const std::string text = "not sent: <" + envelope_.recipients[index].address +
                           "> was refused, and this message goes to all its recipients or none";
  std::vector<std::uint32_t> unsent = std::move(txn_.accepted);
  unsent.insert(unsent.end(), txn_.rcpts.begin() + static_cast<std::ptrdiff_t>(txn_.next_rcpt),
                txn_.rcpts.end());
  unsent.insert(unsent.end(), txn_.overflow.begin(), txn_.overflow.end());
  for (std::uint32_t i : unsent)
    txn_.results.push_back(RecipientResult{i, attempt_local(AttemptOutcome::Transient, "4.0.0", text)});
  txn_.accepted.clear();
  txn_.overflow.clear();
  txn_.rcpts.resize(txn_.next_rcpt);
  end_transaction();
}

void ClientSession::end_transaction() {
  if (txn_.mail_failed) {
    // RFC 5321 §4.1.1.2: a refused MAIL refuses the message: the same verdict for all of them.
    for (std::uint32_t i : txn_.rcpts)
      txn_.results.push_back(RecipientResult{i, attempt_from(txn_.mail_reply)});
    for (std::uint32_t i : txn_.carried)
      txn_.results.push_back(RecipientResult{i, attempt_from(txn_.mail_reply)});
    for (std::uint32_t i : txn_.overflow)
      txn_.results.push_back(RecipientResult{i, attempt_from(txn_.mail_reply)});
    txn_.carried.clear();
    txn_.overflow.clear();
    txn_.accepted.clear();
  }
  std::vector<std::uint32_t> carried = std::move(txn_.carried);
  carried.insert(carried.end(), txn_.overflow.begin(), txn_.overflow.end());
  txn_.carried.clear();
  txn_.overflow.clear();
  const bool need_rset = txn_.need_rset;
  const bool reconnect = !carried.empty() && mail_limit_reached();
  emit_done(std::exchange(txn_.results, {}), reconnect ? std::vector<std::uint32_t>{} : carried, false);
  expect_.clear();
  if (reconnect) {
    reconnect_for(std::move(carried));
    return;
  }
  if (!carried.empty()) {
    if (need_rset) {
      send("RSET\r\n");
      rset_then_ = std::move(carried);
      state_ = State::Rset;
    } else {
      start_transaction(std::move(carried));
    }
    return;
  }
  txn_ = Txn{};
  state_ = State::Idle;
}

// ---- transcript ----------------------------------------------------------------------------

std::string_view ClientSession::answering() const {
  switch (state_) {
    case State::Greeting:
      return "greeting";
    case State::Ehlo:
      return "EHLO";
    case State::Helo:
      return "HELO";
    case State::StartTls:
      return "STARTTLS";
    case State::AuthPlain:
    case State::AuthLoginUser:
    case State::AuthLoginPass:
    case State::AuthLoginDone:
      return "AUTH";
    case State::Rset:
      return "RSET";
    case State::Quit:
      return "QUIT";
    case State::Transaction:
      if (expect_.empty()) return "unexpected";
      switch (expect_.front()) {
        case Expect::Mail:
          return "MAIL FROM";
        case Expect::Rcpt:
          return "RCPT TO";
        case Expect::Data:
          return "DATA";
        case Expect::Dot:
          return "end of data";
        case Expect::Rset:
        case Expect::LeadRset:
          return "RSET";
      }
      return "unexpected";
    default:
      return "unsolicited";
  }
}

void ClientSession::observe_sent(std::string_view bytes) {
  // Credentials never reach a transcript: AUTH PLAIN's initial response, and every line sent
  // while an AUTH exchange is in progress (RFC 4954 §4: they are base64, not secret-free).
  const bool in_auth =
      state_ == State::AuthPlain || state_ == State::AuthLoginUser || state_ == State::AuthLoginPass;
  while (!bytes.empty()) {
    const std::size_t end = bytes.find("\r\n");
    std::string_view line = bytes.substr(0, end);
    bytes.remove_prefix(end == std::string_view::npos ? bytes.size() : end + 2);
    if (in_auth)
      line = "<credentials hidden>";
    else if (line.starts_with("AUTH PLAIN "))
      line = "AUTH PLAIN <credentials hidden>";
    TranscriptEvent e;
    e.kind = TranscriptKind::Sent;
    e.line = line;
    options_.transcript(e);
  }
}

void ClientSession::feed_observed(std::string_view bytes) {
  // Line by line, so each reply is reported right after its own lines (and before what it causes);
  // the parser sees exactly the same bytes as without an observer.
  constexpr std::size_t kMaxShown = 4096;  // a longer line is shown cut (the parser refuses it)
  while (!bytes.empty() && state_ != State::Closed && state_ != State::TlsHandshake) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl + 1);
    bytes.remove_prefix(piece.size());
    parser_.feed(piece);
    std::string_view text = piece;
    if (nl != std::string_view::npos) text.remove_suffix(1);
    observed_line_.append(text.substr(0, kMaxShown - std::min(kMaxShown, observed_line_.size())));
    if (nl == std::string_view::npos) return;
    if (!observed_line_.empty() && observed_line_.back() == '\r') observed_line_.pop_back();
    TranscriptEvent e;
    e.kind = TranscriptKind::Received;
    e.line = observed_line_;
    options_.transcript(e);
    observed_line_.clear();
    drain_replies();
  }
}

}  // namespace ferry::smtp
