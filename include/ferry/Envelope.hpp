// Envelope: what SMTP hands the queue for one message (RFC 5321 §2.3.1) plus the DSN
// parameters of RFC 3461. Contract: plain data; addresses are stored exactly as accepted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/Clock.hpp"

namespace ferry {

// RFC 3461 §4.1 NOTIFY: a bit set; 0 means "not given" (the MTA's default applies).
enum NotifyFlags : std::uint8_t {
  kNotifyUnspecified = 0,
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

// RFC 3461 §4.3 RET.
enum class DsnRet : std::uint8_t { Unspecified = 0, Full = 1, Hdrs = 2 };

// RFC 6152 / RFC 3030 BODY= declaration.
enum class BodyType : std::uint8_t { Unspecified = 0, SevenBit = 1, EightBitMime = 2, BinaryMime = 3 };

struct EnvelopeRecipient {
  std::string address;  // forward-path as accepted (after alias rewriting), no angle brackets
  std::string orcpt;    // RFC 3461 §4.2 ORCPT, "addr-type;xtext" verbatim, empty if absent
  std::uint8_t notify = kNotifyUnspecified;
};

// Who handed us the message: kept for the Received header, logs and bounces.
struct ClientInfo {
  std::string address;    // peer IP as text ("127.0.0.1", "::1"); empty for local submission
  std::string helo;       // EHLO/HELO argument
  std::string auth_user;  // authenticated user, empty if none
  std::string protocol;   // "ESMTP", "ESMTPS", "ESMTPSA", "SMTP", "local"...
};

struct Envelope {
  std::string reverse_path;  // MAIL FROM address without brackets; empty string means "<>"
  std::vector<EnvelopeRecipient> recipients;
  DsnRet ret = DsnRet::Unspecified;
  std::string envid;  // RFC 3461 §4.4 ENVID (xtext decoded), empty if absent
  BodyType body_type = BodyType::Unspecified;
  bool smtputf8 = false;  // RFC 6531 SMTPUTF8 was given on MAIL
  // RFC 8689 §4.1: REQUIRETLS was given on MAIL: every onward hop must be validated TLS to a
  // server that advertises REQUIRETLS, else the message fails with 5.7.30.
  bool require_tls = false;
  ClientInfo client;
  // The Message-ID field of the body as accepted (RFC 5322 §3.6.4, angle brackets removed),
  // empty if it had none: delivery events name the message by it.
  std::string message_id;
  TimeMs arrival_ms = 0;   // when the message was accepted
  std::uint64_t size = 0;  // body size in octets as stored

  bool is_bounce() const { return reverse_path.empty(); }  // "<>": never bounced (RFC 5321 §4.5.5)
};

}  // namespace ferry
