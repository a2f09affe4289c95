// SessionAction: what ServerSession asks the daemon to do, in order (sans-IO "next action").
// Contract: the daemon performs every action in queue order; StartTls, VerifyAuth, SignMessage
// and CommitMessage each leave the session waiting until the matching result call is made.
#pragma once

#include <string>
#include <variant>

#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"

namespace ferry::smtp {

// Write these octets (one or more complete CRLF-terminated reply lines).
struct SendReply {
  std::string text;
};

// Run the TLS server handshake now (the 220 was already queued before this action), then call
// ServerSession::tls_started(version, cipher); on handshake failure close the connection.
struct StartTls {};

// Check the credentials, then call ServerSession::auth_result(). The password is plaintext:
// use it and drop it. `authzid` is empty or equal to `user` (others are refused in-session).
struct VerifyAuth {
  std::string mechanism;  // "PLAIN" or "LOGIN"
  std::string authzid;
  std::string user;
  std::string password;
};

// DKIM-sign the complete message (RFC 6376), then call ServerSession::sign_result() with the body,
// signed or left as it was (no signer configured); an error is answered 451 4.7.0 (never queued
// unsigned), one of kind Busy 451 4.3.1 (no memory for signing). Asked only when
// SessionPolicy::sign_messages is set, for clients that may relay or have authenticated; a
// CommitMessage follows a successful result. `body` starts with Ferry's Received header.
struct SignMessage {
  QueueId queue_id;
  std::string body;
};

// Commit durably (CommitBatcher), then call ServerSession::commit_result(result); an error of
// kind Busy means the daemon had no memory for the commit (answered 451 4.3.1).
// `body` starts with Ferry's Received header and every line ends in CRLF (DATA) or is the exact
// BDAT octets. `queue_id` is the id obtained from SessionHooks::next_queue_id.
struct CommitMessage {
  QueueId queue_id;
  Envelope envelope;
  std::string body;
};

// Close the connection (after writing every reply queued before it).
struct Close {};

using SessionAction = std::variant<SendReply, StartTls, VerifyAuth, SignMessage, CommitMessage, Close>;

// The daemon's verdict on a VerifyAuth.
enum class AuthOutcome {
  Ok,        // 235 2.7.0
  Invalid,   // 535 5.7.8
  TempFail,  // 454 4.7.0 (password file unreadable, ...)
};

}  // namespace ferry::smtp
