// ServerSession: the inbound SMTP state machine (RFC 5321 + PIPELINING, SIZE, 8BITMIME,
// ENHANCEDSTATUSCODES, SMTPUTF8, STARTTLS, AUTH, DSN, CHUNKING, REQUIRETLS, LIMITS), sans-IO: bytes
// in, actions out.
// Contract: replies leave in command order (RFC 2920); while waiting for a TLS, auth, signing or
// commit result no further input is processed (it is buffered); "250 2.0.0 Ok: queued as" is produced
// only by commit_result() with a successful result.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/Reply.hpp"
#include "ferry/Result.hpp"
#include "mta/smtp/BdatReader.hpp"
#include "mta/smtp/CommandParser.hpp"
#include "mta/smtp/DataReader.hpp"
#include "mta/smtp/LineReader.hpp"
#include "mta/smtp/SessionAction.hpp"
#include "mta/smtp/SessionPolicy.hpp"

namespace ferry::smtp {

class ServerSession {
 public:
  ServerSession(SessionPolicy policy, SessionHooks hooks);

  // Queues the 220 greeting. With implicit TLS call it after the handshake (RFC 8314 §3.3).
  void start();

  // Feeds octets from the client. Produces zero or more actions.
  void feed(std::string_view bytes);

  // Actions, in order. The daemon drains them after every call into the session.
  bool has_action() const { return !actions_.empty(); }
  SessionAction next_action();
  std::deque<SessionAction> take_actions();

  // Results of the waiting actions. Each resumes processing of buffered input.
  void tls_started(std::string_view version, std::string_view cipher);  // after StartTls
  void auth_result(AuthOutcome outcome);                                // after VerifyAuth
  void auth_result(bool ok) { auth_result(ok ? AuthOutcome::Ok : AuthOutcome::Invalid); }
  void sign_result(Result<std::string> signed_body);  // after SignMessage
  void commit_result(const Result<void>& result);     // after CommitMessage

  // Graceful shutdown: the next command line is answered 421 4.3.2 and the session closes. A
  // message being received or committed is finished first.
  void shutdown();

  // Memory for the message being received, for the daemon's budget of pending bytes.
  std::size_t body_capacity() const { return body_.capacity(); }
  std::size_t body_size() const { return body_.size(); }
  // The most octets feed() of `n` input octets can add to the body of a message being stored in
  // DATA or BDAT mode (0 when none is): DATA stores a bare LF or CR as CRLF and folds long lines.
  std::size_t body_growth_bound(std::size_t n) const;
  // Grows the body buffer to `capacity` octets, so that feed() appends without reallocating: the
  // daemon grows it in steps it has accounted for (never shrinks it).
  void reserve_body(std::size_t capacity);
  // The daemon has no memory for the message being received: the rest of its data is read but
  // not stored, and the end of data is answered 451 4.3.1 (RFC 3463 "mail system full").
  void drop_message();

  // State for the daemon's logs, limits and delays.
  bool closed() const { return mode_ == Mode::Closed; }
  bool waiting() const;  // a StartTls / VerifyAuth / SignMessage / CommitMessage result is outstanding
  bool in_data() const { return mode_ == Mode::Data || mode_ == Mode::Bdat || mode_ == Mode::BdatDiscard; }
  bool authenticated() const { return authenticated_; }
  const std::string& auth_user() const { return auth_user_; }
  bool tls_active() const { return tls_active_; }
  std::size_t error_count() const { return errors_; }
  std::size_t junk_commands() const { return junk_; }
  std::size_t auth_failures() const { return auth_failures_; }
  std::size_t messages_committed() const { return committed_; }

 private:
  enum class Mode {
    Idle,  // before start()
    Command,
    Data,
    Bdat,
    BdatDiscard,  // swallowing a refused BDAT chunk
    AuthPlain,    // waiting for the PLAIN response line
    AuthLoginUser,
    AuthLoginPass,
    WaitTls,
    WaitAuth,
    WaitSign,
    WaitCommit,
    Closed,
  };

  struct Transaction {
    bool mail = false;
    Envelope envelope;
    std::vector<std::string> original_recipients;  // as the client wrote them (Received "for")
    std::vector<std::string> original_to;          // recipients rewritten to the admin address
    bool bdat_used = false;
    std::optional<Reply> bdat_failure;  // once a chunk failed, later chunks fail the same way
  };

  std::size_t run(std::string_view input);
  void resume();
  void handle_line(std::string_view line);
  void handle_command(std::string_view line);
  void handle_auth_line(std::string_view line);

  void cmd_ehlo(const Command& c, bool esmtp);
  void cmd_mail(const CommandParseResult& r);
  void cmd_rcpt(const CommandParseResult& r);
  void cmd_data(const CommandParseResult& r);
  void cmd_bdat(const CommandParseResult& r);
  void cmd_starttls(const CommandParseResult& r);
  void cmd_auth(const CommandParseResult& r);

  void auth_plain(std::string_view response);
  void finish_data();
  void finish_chunk();
  void begin_body();
  void accept_message();
  void commit();

  void reply(int code, std::string_view status, std::string_view text);
  void reply(const Reply& r);
  void error(const Reply& r);  // a refused command: counts towards max_errors
  void error(int code, std::string_view status, std::string_view text);
  void close_with(int code, std::string_view status, std::string_view text);
  bool junk();  // counts a junk command; true when the limit was passed and the session closed
  void reset_transaction();
  bool auth_offered() const;
  std::string protocol() const;

  SessionPolicy policy_;
  SessionHooks hooks_;
  std::deque<SessionAction> actions_;
  Mode mode_ = Mode::Idle;

  std::string in_;  // input not yet processed (only when it could not be handled at once)
  LineReader lines_{kMaxAuthLine};

  // Session state (reset by STARTTLS).
  bool seen_helo_ = false;
  bool esmtp_ = false;
  std::string helo_;
  bool tls_active_ = false;
  std::string tls_version_;
  std::string tls_cipher_;
  bool authenticated_ = false;
  std::string auth_user_;
  VerifyAuth pending_auth_;
  bool shutting_down_ = false;
  std::size_t errors_ = 0;
  std::size_t junk_ = 0;  // junk commands since the session began or the last accepted message
  std::size_t auth_failures_ = 0;
  std::size_t committed_ = 0;

  // Transaction state.
  Transaction txn_;
  QueueId queue_id_;
  std::string body_;  // the ONE body buffer: Received header, then the data, moved into the commit
  std::optional<DataReader> data_;
  std::optional<BdatReader> bdat_;
  bool bdat_last_ = false;
  std::uint64_t bdat_chunk_ = 0;
  std::uint64_t discard_remaining_ = 0;
  std::optional<Reply> discard_reply_;  // sent once the chunk is swallowed (unset: sent already)
};

}  // namespace ferry::smtp
