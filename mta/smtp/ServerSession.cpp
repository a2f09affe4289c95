#include "mta/smtp/ServerSession.hpp"

#include <utility>

#include "ferry/text/SafeText.hpp"

#include "ferry/text/Ascii.hpp"
#include "ferry/text/Xtext.hpp"
#include "mta/smtp/Base64.hpp"
#include "mta/smtp/OriginalTo.hpp"
#include "mta/smtp/ReceivedHeader.hpp"
#include "mta/smtp/ReplyText.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

namespace {
// The answer to a message the daemon had no memory for (RFC 3463 X.3.1, "mail system full").
Reply no_memory() {
  return make_reply(451, "4.3.1", "Error: insufficient system resources, try again later");
}
}  // namespace

ServerSession::ServerSession(SessionPolicy policy, SessionHooks hooks)
    : policy_(std::move(policy)), hooks_(std::move(hooks)) {
  tls_active_ = policy_.tls_active || policy_.implicit_tls;
  tls_version_ = policy_.tls_version;
  tls_cipher_ = policy_.tls_cipher;
}

// ---------------------------------------------------------------------------------------------
// Plumbing

void ServerSession::start() {
  if (mode_ != Mode::Idle) return;
  mode_ = Mode::Command;
  // RFC 5321 §4.3.1: the greeting carries no enhanced status code (RFC 2034 §3).
  reply(220, "", policy_.hostname + " ESMTP Ferry");
  resume();  // anything the client sent before the greeting
}

SessionAction ServerSession::next_action() {
  SessionAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::deque<SessionAction> ServerSession::take_actions() { return std::exchange(actions_, {}); }

bool ServerSession::waiting() const {
  return mode_ == Mode::WaitTls || mode_ == Mode::WaitAuth || mode_ == Mode::WaitSign ||
         mode_ == Mode::WaitCommit;
}

void ServerSession::feed(std::string_view bytes) {
  // RFC 3207 §4 / CVE-2011-0411: nothing received between STARTTLS and the handshake counts.
  if (mode_ == Mode::Closed || mode_ == Mode::WaitTls) return;
  if (in_.empty() && mode_ != Mode::Idle && !waiting()) {
    // Fast path: process straight from the caller's buffer (DATA goes into body_ in one copy).
    const std::size_t used = run(bytes);
    if (mode_ != Mode::Closed && mode_ != Mode::WaitTls) in_.assign(bytes.substr(used));
    return;
  }
  in_.append(bytes);
  resume();
}

void ServerSession::resume() {
  if (mode_ == Mode::Idle || waiting() || mode_ == Mode::Closed || in_.empty()) return;
  const std::size_t used = run(in_);
  if (mode_ == Mode::Closed || mode_ == Mode::WaitTls)
    in_.clear();
  else
    in_.erase(0, used);
}

std::size_t ServerSession::run(std::string_view in) {
  std::size_t i = 0;
  while (true) {
    switch (mode_) {
      case Mode::Data:
        i += data_->consume(in.substr(i));
        if (!data_->done()) return i;
        finish_data();
        break;
      case Mode::Bdat:
        if (!bdat_->chunk_done()) i += bdat_->consume(in.substr(i));
        if (!bdat_->chunk_done()) return i;
        finish_chunk();
        break;
      case Mode::BdatDiscard: {
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(discard_remaining_, in.size() - i));
        i += take;
        discard_remaining_ -= take;
        if (discard_remaining_ != 0) return i;
        mode_ = Mode::Command;
        if (discard_reply_) error(*discard_reply_);  // unless it was answered when announced
        break;
      }
      case Mode::Command:
      case Mode::AuthPlain:
      case Mode::AuthLoginUser:
      case Mode::AuthLoginPass: {
        if (i >= in.size()) return i;
        i += lines_.consume(in.substr(i));
        if (!lines_.has_line()) return i;
        handle_line(lines_.line());
        lines_.take_line();
        break;
      }
      case Mode::Idle:
      case Mode::WaitTls:
      case Mode::WaitAuth:
      case Mode::WaitSign:
      case Mode::WaitCommit:
      case Mode::Closed:
        return i;
    }
  }
}

void ServerSession::reply(int code, std::string_view status, std::string_view text) {
  reply(make_reply(code, status, text));
}

void ServerSession::reply(const Reply& r) {
  // Pipelined replies are coalesced into one SendReply so the daemon writes them together.
  std::string text = format_reply(r);
  if (!actions_.empty())
    if (auto* last = std::get_if<SendReply>(&actions_.back())) {
      last->text += text;
      return;
    }
  actions_.emplace_back(SendReply{std::move(text)});
}

void ServerSession::error(const Reply& r) {
  ++errors_;
  ++junk_;  // a refused command moves no mail either
  reply(r);
}

bool ServerSession::junk() {
  // Postfix's smtpd_junk_command_limit: a client may keep a slot busy with NOOPs (each one just
  // before the command timeout) or endless RSET/VRFY/HELP; past the limit it is cut off.
  if (policy_.junk_command_limit == 0 || ++junk_ <= policy_.junk_command_limit) return false;
  close_with(421, "4.7.0", policy_.hostname + " Error: too many junk commands");
  return true;
}

void ServerSession::error(int code, std::string_view status, std::string_view text) {
  error(make_reply(code, status, text));
}

void ServerSession::close_with(int code, std::string_view status, std::string_view text) {
  reply(code, status, text);
  actions_.emplace_back(Close{});
  mode_ = Mode::Closed;
  lines_.reset();
  in_.clear();
}

void ServerSession::reset_transaction() {
  txn_ = Transaction{};
  data_.reset();
  bdat_.reset();
  std::string().swap(body_);  // a refused message does not keep its buffer for the next one
  queue_id_ = QueueId{};
}

std::size_t ServerSession::body_growth_bound(std::size_t n) const {
  if (mode_ == Mode::Data && data_ && data_->storing()) return 2 * n + 3;
  if (mode_ == Mode::Bdat && bdat_ && bdat_->storing()) return n;
  return 0;
}

void ServerSession::reserve_body(std::size_t capacity) {
  if (capacity <= body_.capacity()) return;
  // Exactly `capacity`: std::string::reserve may double instead, past what the daemon counted.
  std::string larger;
  larger.reserve(capacity);
  larger.append(body_);
  body_.swap(larger);  // the readers keep referring to body_ itself
}

void ServerSession::drop_message() {
  if (mode_ == Mode::Data && data_)
    data_->drop();
  else if (mode_ == Mode::Bdat && bdat_)
    bdat_->drop();
}

bool ServerSession::auth_offered() const {
  // RFC 4954 §4 / checklist 4954: PLAIN and LOGIN only over TLS unless explicitly allowed.
  return policy_.auth_available && (tls_active_ || policy_.allow_plaintext_auth);
}

std::string ServerSession::protocol() const {
  return received_protocol(esmtp_, tls_active_, authenticated_, txn_.envelope.smtputf8);
}

// ---------------------------------------------------------------------------------------------
// Command lines

void ServerSession::handle_line(std::string_view line) {
  // Postfix's smtpd_hard_error_limit: once the limit is reached, the next command gets 421.
  if (policy_.max_errors != 0 && errors_ >= policy_.max_errors) {
    close_with(421, "4.7.0", policy_.hostname + " Error: too many errors");
    return;
  }
  if (policy_.junk_command_limit != 0 && junk_ > policy_.junk_command_limit) {
    close_with(421, "4.7.0", policy_.hostname + " Error: too many junk commands");  // refused ones
    return;
  }
  if (lines_.too_long()) {
    if (mode_ != Mode::Command) mode_ = Mode::Command;  // an over-long SASL line aborts AUTH
    error(500, "5.5.6", "Error: line too long");        // RFC 5321 §4.5.3.1.4, §4.2.2
    return;
  }
  if (lines_.bare_lf() || lines_.bare_cr()) {
    // RFC 5321 §2.3.8: only CRLF ends a command line; a bare LF/CR is refused, not split on.
    if (mode_ != Mode::Command) mode_ = Mode::Command;
    error(500, "5.5.2", lines_.bare_lf() ? "Error: bare <LF> received" : "Error: bare <CR> received");
    return;
  }
  if (mode_ == Mode::Command)
    handle_command(line);
  else
    handle_auth_line(line);
}

void ServerSession::handle_command(std::string_view line) {
  if (shutting_down_) {
    close_with(421, "4.3.2", policy_.hostname + " Service shutting down, closing transmission channel");
    return;
  }
  CommandParseOptions options;
  options.esmtp = esmtp_;
  const CommandParseResult r = parse_command(line, options);
  const Command& c = r.command;
  if (r.error && r.error->code == 500) return error(*r.error);  // too long / not recognized
  switch (c.verb) {
    case Verb::Helo:
    case Verb::Ehlo:
      if (!r.ok()) return error(*r.error);
      // RFC 5321 §4.1.1.1: a domain or address literal; control characters (ESC, NUL, TAB ...)
      // have no place in it and would reach the Received header, logs and terminals.
      if (text::has_control_characters(c.argument))
        return error(501, "5.5.2", "Error: invalid characters in HELO/EHLO argument");
      return cmd_ehlo(c, c.verb == Verb::Ehlo);
    case Verb::Mail:
      return cmd_mail(r);
    case Verb::Rcpt:
      return cmd_rcpt(r);
    case Verb::Data:
      return cmd_data(r);
    case Verb::Bdat:
      return cmd_bdat(r);
    case Verb::StartTls:
      return cmd_starttls(r);
    case Verb::Auth:
      return cmd_auth(r);
    case Verb::Rset:
      if (!r.ok()) return error(*r.error);
      if (junk()) return;
      reset_transaction();  // RFC 5321 §4.1.1.5
      return reply(250, "2.0.0", "Ok");
    case Verb::Noop:
      if (junk()) return;
      return reply(250, "2.0.0", "Ok");  // §4.1.1.9: any argument is ignored
    case Verb::Quit:
      if (!r.ok()) return error(*r.error);
      // §4.1.1.10: an unfinished transaction is discarded.
      reset_transaction();
      return close_with(221, "2.0.0", "Bye");
    case Verb::Vrfy:
      if (!r.ok()) return error(*r.error);
      if (junk()) return;
      // §3.5.3 / §7.3: 252 never confirms or denies a mailbox.
      return reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
    case Verb::Help:
      if (junk()) return;
      return reply(214, "2.0.0",
                   "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH\n"
                   "See RFC 5321");
    case Verb::Expn:
    case Verb::Unimplemented:
      return error(502, "5.5.1", "Error: command not implemented");  // §4.2.4
    case Verb::Unknown:
      return error(r.error ? *r.error : make_reply(500, "5.5.2", "Error: command not recognized"));
  }
}

void ServerSession::cmd_ehlo(const Command& c, bool esmtp) {
  // RFC 5321 §4.1.4: EHLO/HELO mid-session resets the transaction like RSET. The name is never
  // checked against the client address (§4.1.4, checklist 5321-24).
  reset_transaction();
  seen_helo_ = true;
  esmtp_ = esmtp;
  helo_ = c.argument.substr(0, c.argument.find(' '));
  if (!esmtp) return reply(250, "", policy_.hostname);  // §3.2: HELO gets a single line
  std::string text = policy_.hostname;
  text += "\nPIPELINING";
  text +=
      policy_.max_message_size ? "\nSIZE " + std::to_string(policy_.max_message_size) : std::string("\nSIZE");
  text += "\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8";
  if (policy_.tls_available && !tls_active_) text += "\nSTARTTLS";  // RFC 3207 §4.2
  if (auth_offered()) text += "\nAUTH PLAIN LOGIN";
  if (tls_active_) text += "\nREQUIRETLS";  // RFC 8689 §2: only on a TLS-protected session
  // RFC 9422 §4: the limits we enforce; no MAILMAX, since a connection may carry any number of
  // messages.
  text += "\nLIMITS RCPTMAX=" + std::to_string(policy_.max_recipients);
  text += "\nDSN\nCHUNKING";
  reply(250, "", text);
}

void ServerSession::cmd_mail(const CommandParseResult& r) {
  if (!seen_helo_) return error(503, "5.5.1", "Error: send HELO/EHLO first");
  if (txn_.mail) return error(503, "5.5.1", "Error: nested MAIL command");  // §4.1.4
  if (policy_.auth_required && !authenticated_ && !policy_.client_may_relay)
    return error(530, "5.7.0", "Authentication required");  // RFC 6409 §4.3, RFC 4954 §6
  if (!r.ok()) return error(*r.error);
  const Command& c = r.command;
  // RFC 8689 §2: REQUIRETLS is offered, and may be used, only once the session is protected by
  // TLS; RFC 3207 §4's 530 tells the client what to do first.
  if (c.mail.requiretls && !tls_active_)
    return error(530, "5.7.10", "Error: REQUIRETLS needs TLS; issue STARTTLS first");
  if (c.mail.size && policy_.max_message_size && *c.mail.size > policy_.max_message_size)
    return error(552, "5.3.4", "Error: message size exceeds fixed limit");  // RFC 1870 §6.2
  // Backpressure: a temporary refusal that is not the client's fault, so not counted as an error.
  if (hooks_.queue_has_space && !hooks_.queue_has_space())
    return reply(452, "4.3.1", "Insufficient system storage");
  txn_.mail = true;
  Envelope& env = txn_.envelope;
  env.reverse_path =
      c.path.null_path ? std::string() : masquerade_address(c.path.address, policy_.masquerade);
  env.body_type = c.mail.body;
  env.smtputf8 = c.mail.smtputf8;
  env.require_tls = c.mail.requiretls;  // RFC 8689 §4.1: the message is tagged for onward relay
  env.ret = c.mail.ret;
  env.envid = c.mail.envid;
  reply(250, "2.1.0", "Ok");
}

void ServerSession::cmd_rcpt(const CommandParseResult& r) {
  if (!txn_.mail) return error(503, "5.5.1", "Error: need MAIL command");
  if (!r.ok()) return error(*r.error);
  const Command& c = r.command;
  if (c.path.utf8 && !txn_.envelope.smtputf8)
    return error(address_error_reply(AddressError::Utf8NotAllowed, PathKind::Forward));
  if (txn_.envelope.recipients.size() >= policy_.max_recipients) {
    // §4.5.3.1.10: 452, and the recipients already accepted stay. Not counted as an error.
    return reply(452, "4.5.3", "Error: too many recipients");
  }
  RecipientDecision d = hooks_.decide_recipient
                            ? hooks_.decide_recipient(c.path.address, authenticated_)
                            : RecipientDecision::reject(
                                  make_reply(554, "5.7.1", "<" + c.path.address + ">: Relay access denied"));
  EnvelopeRecipient rcpt;
  rcpt.notify = c.rcpt.notify;
  rcpt.orcpt = c.rcpt.orcpt;
  switch (d.kind) {
    case RecipientDecision::Kind::Reject:
      return error(d.reply);
    case RecipientDecision::Kind::Accept:
      rcpt.address = c.path.address;
      break;
    case RecipientDecision::Kind::Rewrite:
      rcpt.address = d.address;
      // RFC 3461 §4.2: keep the address the client gave, for the DSN's Original-Recipient.
      if (rcpt.orcpt.empty())
        rcpt.orcpt = (c.path.utf8 ? "utf-8;" : "rfc822;") + xtext_encode(c.path.address);
      if (d.original_to) txn_.original_to.push_back(c.path.address);
      break;
  }
  txn_.envelope.recipients.push_back(std::move(rcpt));
  txn_.original_recipients.push_back(c.path.address);
  reply(250, "2.1.5", "Ok");
}

void ServerSession::cmd_data(const CommandParseResult& r) {
  if (!txn_.mail) return error(503, "5.5.1", "Error: need MAIL command");
  if (txn_.envelope.recipients.empty()) return error(554, "5.5.1", "Error: no valid recipients");  // §3.3
  if (txn_.bdat_used) return error(503, "5.5.1", "Error: DATA after BDAT");  // RFC 3030 §2
  if (!r.ok()) return error(*r.error);
  if (txn_.envelope.body_type == BodyType::BinaryMime)
    return error(503, "5.5.1", "Error: BODY=BINARYMIME requires BDAT");  // RFC 3030 §3
  begin_body();
  DataLimits limits;
  limits.max_size = policy_.max_message_size;
  limits.max_received_headers = policy_.max_received_headers;
  limits.bare_newline = policy_.bare_newline;
  data_.emplace(body_, limits);
  mode_ = Mode::Data;
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void ServerSession::begin_body() {
  queue_id_ = hooks_.next_queue_id ? hooks_.next_queue_id() : QueueId{};
  const WallTime now = hooks_.now ? hooks_.now() : WallTime{};
  const std::string proto = protocol();
  ReceivedInfo info;
  info.helo = helo_;
  info.client_name = policy_.client_hostname;
  info.client_ip = policy_.client_ip;
  info.hostname = policy_.hostname;
  info.protocol = proto;
  info.queue_id = queue_id_;
  info.tls_version = tls_active_ ? std::string_view(tls_version_) : std::string_view();
  info.tls_cipher = tls_cipher_;
  if (txn_.original_recipients.size() == 1) info.recipient = txn_.original_recipients.front();
  info.time = now;
  body_ = build_received_header(info);
  body_ += original_to_fields(txn_.original_to);
}

void ServerSession::finish_data() {
  const DataOutcome outcome = data_->outcome();
  mode_ = Mode::Command;
  switch (outcome) {
    case DataOutcome::Ok:
      return accept_message();
    case DataOutcome::TooBig:
      reset_transaction();
      return error(552, "5.3.4", "Error: message size exceeds fixed limit");  // RFC 1870 §6.3
    case DataOutcome::BareLf:
      reset_transaction();
      return error(550, "5.5.2", "Error: bare <LF> received");  // Postfix 3.9 smtpd_forbid_bare_newline
    case DataOutcome::BareCr:
      reset_transaction();
      return error(550, "5.5.2", "Error: bare <CR> received");
    case DataOutcome::TooManyHops:
      reset_transaction();
      return error(554, "5.4.6", "Error: too many hops");  // RFC 5321 §6.3 loop detection
    case DataOutcome::Dropped:
      reset_transaction();
      return reply(no_memory());  // temporary, and not the client's error
  }
}

void ServerSession::cmd_bdat(const CommandParseResult& r) {
  // RFC 3030 §2: a refused BDAT still carries its chunk, which must be read and dropped.
  if (!r.ok()) return error(*r.error);  // no usable size: nothing to swallow
  const Command& c = r.command;
  if (policy_.max_message_size != 0 && c.bdat_size > policy_.max_message_size) {
    // RFC 1870 §6.2 / RFC 3030 §4: a chunk that alone exceeds the limit is refused when it is
    // announced, so the client learns at once (BDAT 99999999999999999999 would never end). Its
    // octets are still swallowed, never stored nor read as commands (RFC 3030 §2); the
    // connection stays usable (RFC 5321 §4.5.3.1.9) and the daemon's transaction deadline
    // bounds how long a client may keep sending them.
    Reply failure = make_reply(552, "5.3.4", "Error: message size exceeds fixed limit");
    error(failure);
    if (c.bdat_last || !txn_.mail) {
      reset_transaction();
    } else {
      txn_.bdat_used = true;        // a chunk sequence began (DATA is now 503; LAST ends it)
      txn_.bdat_failure = failure;  // later chunks of this transaction fail the same way
    }
    discard_remaining_ = c.bdat_size;
    discard_reply_.reset();
    mode_ = Mode::BdatDiscard;
    return;
  }
  std::optional<Reply> refuse;
  if (!txn_.mail)
    refuse = make_reply(503, "5.5.1", "Error: need MAIL command");
  else if (txn_.envelope.recipients.empty())
    refuse = make_reply(554, "5.5.1", "Error: no valid recipients");
  else if (txn_.bdat_failure)
    refuse = *txn_.bdat_failure;
  if (refuse) {
    if (c.bdat_last && txn_.bdat_used) reset_transaction();  // LAST ends a failed chunk sequence
    discard_remaining_ = c.bdat_size;
    discard_reply_ = *refuse;
    mode_ = Mode::BdatDiscard;
    return;
  }
  if (!txn_.bdat_used) {
    txn_.bdat_used = true;
    begin_body();
    bdat_.emplace(body_, policy_.max_message_size);
  }
  bdat_chunk_ = c.bdat_size;
  bdat_last_ = c.bdat_last;
  bdat_->begin_chunk(c.bdat_size);
  mode_ = Mode::Bdat;
}

void ServerSession::finish_chunk() {
  mode_ = Mode::Command;
  if (bdat_->dropped()) {
    // RFC 3030 §2: the later chunks of this message are refused the same way until LAST.
    if (bdat_last_)
      reset_transaction();
    else
      txn_.bdat_failure = no_memory();
    return reply(no_memory());
  }
  if (bdat_->too_big()) {
    Reply failure = make_reply(552, "5.3.4", "Error: message size exceeds fixed limit");
    if (bdat_last_)
      reset_transaction();
    else
      txn_.bdat_failure = failure;
    return error(failure);
  }
  if (!bdat_last_) return reply(250, "2.0.0", "Ok: " + std::to_string(bdat_chunk_) + " octets received");
  if (policy_.max_received_headers != 0) {
    // Count the client's headers only: skip our own Received header at the front of body_.
    std::string_view message(body_);
    std::size_t ours = 0;
    while (ours < message.size()) {  // our header ends at the first CRLF not followed by TAB
      const std::size_t nl = message.find("\r\n", ours);
      if (nl == std::string_view::npos) break;
      ours = nl + 2;
      if (ours >= message.size() || message[ours] != '\t') break;
    }
    if (count_received_headers(message.substr(ours)) > policy_.max_received_headers) {
      reset_transaction();
      return error(554, "5.4.6", "Error: too many hops");
    }
  }
  accept_message();
}

// A complete message: signed first when this hop signs the client's mail (DKIM, RFC 6376, for
// relay networks and authenticated clients), then committed. Signing is its own step so that
// commit_result() only ever reports the commit.
void ServerSession::accept_message() {
  // Before signing: the signature must cover the From: that leaves.
  masquerade_from_field(body_, policy_.masquerade);
  if (!policy_.sign_messages || !(policy_.client_may_relay || authenticated_)) return commit();
  actions_.emplace_back(SignMessage{queue_id_, std::move(body_)});
  body_.clear();
  mode_ = Mode::WaitSign;
}

void ServerSession::sign_result(Result<std::string> signed_body) {
  if (mode_ != Mode::WaitSign) return;  // nothing to sign: nothing may be committed
  if (signed_body.ok()) {
    body_ = std::move(signed_body.value());
    return commit();
  }
  mode_ = Mode::Command;
  if (signed_body.error().kind == ErrorKind::Busy) {
    reply(no_memory());  // the daemon found no memory for signing in time
  } else {
    // RFC 3463 X.7.0: better a retry than unsigned mail.
    reply(451, "4.7.0", "Error: message could not be signed, try again later");
  }
  reset_transaction();
  resume();
}

void ServerSession::commit() {
  CommitMessage m;
  m.queue_id = queue_id_;
  m.envelope = std::move(txn_.envelope);
  m.envelope.client.address = policy_.client_ip;
  m.envelope.client.helo = helo_;
  m.envelope.client.auth_user = auth_user_;
  m.envelope.client.protocol = received_protocol(esmtp_, tls_active_, authenticated_, m.envelope.smtputf8);
  m.envelope.arrival_ms = hooks_.now ? hooks_.now().unix_ms : 0;
  m.envelope.size = body_.size();
  m.body = std::move(body_);
  actions_.emplace_back(std::move(m));
  txn_ = Transaction{};
  data_.reset();
  bdat_.reset();
  body_.clear();
  mode_ = Mode::WaitCommit;
}

void ServerSession::commit_result(const Result<void>& result) {
  if (mode_ != Mode::WaitCommit) return;  // no commit outstanding: nothing may say "queued"
  mode_ = Mode::Command;
  if (result.ok()) {
    // The ONLY place that produces this reply: 250 means committed (RFC 5321 §6.1).
    ++committed_;
    junk_ = 0;  // as Postfix: a client that delivers mail starts its junk count afresh
    reply(250, "2.0.0", "Ok: queued as " + queue_id_.str());
  } else if (result.error().is_space()) {
    reply(452, "4.3.1", "Insufficient system storage");
  } else if (result.error().kind == ErrorKind::Busy) {
    reply(no_memory());  // the daemon found no memory for the commit in time
  } else {
    reply(451, "4.3.0", "Error: queue file write error");
  }
  reset_transaction();
  resume();
}

// ---------------------------------------------------------------------------------------------
// STARTTLS (RFC 3207)

void ServerSession::cmd_starttls(const CommandParseResult& r) {
  if (tls_active_) return error(503, "5.5.1", "Error: TLS already active");
  if (!policy_.tls_available) return error(502, "5.5.1", "Error: command not implemented");
  if (!r.ok()) return error(*r.error);
  reply(220, "2.0.0", "Ready to start TLS");
  actions_.emplace_back(StartTls{});
  mode_ = Mode::WaitTls;
  lines_.reset();  // CVE-2011-0411: pipelined plaintext after STARTTLS is dropped (run() stops)
}

void ServerSession::tls_started(std::string_view version, std::string_view cipher) {
  tls_active_ = true;
  tls_version_ = std::string(version);
  tls_cipher_ = std::string(cipher);
  if (mode_ == Mode::Idle) return;  // implicit TLS, before start()
  if (mode_ != Mode::WaitTls) return;
  // RFC 3207 §4.2: discard all knowledge obtained from the client: EHLO, transaction, AUTH.
  seen_helo_ = false;
  esmtp_ = false;
  helo_.clear();
  authenticated_ = false;
  auth_user_.clear();
  reset_transaction();
  in_.clear();
  lines_.reset();
  mode_ = Mode::Command;
}

// ---------------------------------------------------------------------------------------------
// AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN

void ServerSession::cmd_auth(const CommandParseResult& r) {
  if (!seen_helo_ || !esmtp_) return error(503, "5.5.1", "Error: send EHLO first");
  if (!policy_.auth_available) return error(503, "5.5.1", "Error: authentication not enabled");
  if (!auth_offered())
    return error(538, "5.7.11", "Encryption required for requested authentication mechanism");
  if (authenticated_) return error(503, "5.5.1", "Error: already authenticated");  // RFC 4954 §4
  if (txn_.mail) return error(503, "5.5.1", "Error: MAIL transaction in progress");
  if (!r.ok()) return error(*r.error);
  std::string_view arg = r.command.argument;
  const std::size_t sp = arg.find(' ');
  std::string_view mech = arg.substr(0, sp);
  std::string_view initial = sp == std::string_view::npos ? std::string_view{} : arg.substr(sp + 1);
  pending_auth_ = VerifyAuth{};
  if (iequals(mech, "PLAIN")) {
    pending_auth_.mechanism = "PLAIN";
    if (initial.empty()) {
      mode_ = Mode::AuthPlain;
      return reply(334, "", "");  // RFC 4954 §4: empty challenge
    }
    return auth_plain(initial);
  }
  if (iequals(mech, "LOGIN")) {
    pending_auth_.mechanism = "LOGIN";
    if (initial.empty()) {
      mode_ = Mode::AuthLoginUser;
      return reply(334, "", base64_encode("Username:"));
    }
    if (initial == "*") return error(501, "5.0.0", "Error: authentication aborted");
    auto user = base64_decode(initial);
    if (!user) return error(501, "5.5.2", "Error: invalid base64 data");
    pending_auth_.user = std::move(*user);
    mode_ = Mode::AuthLoginPass;
    return reply(334, "", base64_encode("Password:"));
  }
  error(504, "5.5.4", "Error: unsupported authentication mechanism");
}

void ServerSession::handle_auth_line(std::string_view line) {
  const Mode m = mode_;
  mode_ = Mode::Command;
  if (line == "*") return error(501, "5.0.0", "Error: authentication aborted");  // RFC 4954 §4
  if (m == Mode::AuthPlain) return auth_plain(line);
  auto decoded = base64_decode(line);
  if (!decoded) return error(501, "5.5.2", "Error: invalid base64 data");
  if (m == Mode::AuthLoginUser) {
    pending_auth_.user = std::move(*decoded);
    mode_ = Mode::AuthLoginPass;
    return reply(334, "", base64_encode("Password:"));
  }
  pending_auth_.password = std::move(*decoded);
  actions_.emplace_back(pending_auth_);
  pending_auth_.password.clear();
  mode_ = Mode::WaitAuth;
}

void ServerSession::auth_plain(std::string_view response) {
  // RFC 4954 §4: "=" is an empty initial response.
  auto decoded = response == "=" ? std::optional<std::string>(std::string()) : base64_decode(response);
  if (!decoded) return error(501, "5.5.2", "Error: invalid base64 data");
  // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
  const std::size_t a = decoded->find('\0');
  const std::size_t b = a == std::string::npos ? a : decoded->find('\0', a + 1);
  if (a == std::string::npos || b == std::string::npos || decoded->find('\0', b + 1) != std::string::npos)
    return error(501, "5.5.2", "Error: malformed PLAIN response");
  pending_auth_.authzid = decoded->substr(0, a);
  pending_auth_.user = decoded->substr(a + 1, b - a - 1);
  pending_auth_.password = decoded->substr(b + 1);
  if (pending_auth_.user.empty() ||
      (!pending_auth_.authzid.empty() && pending_auth_.authzid != pending_auth_.user)) {
    ++auth_failures_;
    pending_auth_ = VerifyAuth{};
    return error(535, "5.7.8", "Error: authentication failed");  // no proxy authorisation
  }
  actions_.emplace_back(pending_auth_);
  pending_auth_.password.clear();
  mode_ = Mode::WaitAuth;
}

void ServerSession::auth_result(AuthOutcome outcome) {
  if (mode_ != Mode::WaitAuth) return;
  mode_ = Mode::Command;
  switch (outcome) {
    case AuthOutcome::Ok:
      authenticated_ = true;
      auth_user_ = pending_auth_.user;
      reply(235, "2.7.0", "Authentication successful");
      break;
    case AuthOutcome::Invalid:
      ++auth_failures_;
      error(535, "5.7.8", "Error: authentication failed");
      break;
    case AuthOutcome::TempFail:
      reply(454, "4.7.0", "Temporary authentication failure");
      break;
  }
  pending_auth_ = VerifyAuth{};
  resume();
}

// ---------------------------------------------------------------------------------------------

void ServerSession::shutdown() { shutting_down_ = true; }

}  // namespace ferry::smtp
