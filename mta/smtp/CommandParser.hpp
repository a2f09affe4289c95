// CommandParser: one SMTP command line (without CRLF) -> Command (RFC 5321 §4.1, ESMTP §4.1.1.11).
// Contract: pure; verbs and parameter keywords are case-insensitive (§2.4); any problem is
// returned as the exact Reply to send (501/500/553/555 with RFC 3463 codes), never thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Envelope.hpp"
#include "ferry/Reply.hpp"
#include "mta/smtp/AddressParser.hpp"

namespace ferry::smtp {

enum class Verb : std::uint8_t {
  Unknown,
  Helo,
  Ehlo,
  Mail,
  Rcpt,
  Data,
  Bdat,
  Rset,
  Noop,
  Quit,
  Vrfy,
  Expn,
  Help,
  StartTls,
  Auth,
  Unimplemented,  // known from RFC 821/5321 but not offered (TURN, SEND, SOML, SAML, ETRN): 502
};

const char* to_string(Verb verb) noexcept;

// MAIL FROM parameters: RFC 1870 SIZE, RFC 6152/3030 BODY, RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID,
// RFC 4954 §5 AUTH (accepted and ignored), RFC 8689 §2 REQUIRETLS.
struct MailParameters {
  std::optional<std::uint64_t> size;  // saturates at UINT64_MAX for absurd values
  BodyType body = BodyType::Unspecified;
  bool smtputf8 = false;
  DsnRet ret = DsnRet::Unspecified;
  std::string envid;  // xtext-decoded
  bool has_envid = false;
  bool auth = false;
  bool requiretls = false;  // the session decides whether it may be used (only over TLS)
};

// RCPT TO parameters: RFC 3461 NOTIFY and ORCPT.
struct RcptParameters {
  std::uint8_t notify = kNotifyUnspecified;
  std::string orcpt;  // "addr-type;xtext" verbatim
};

struct Command {
  Verb verb = Verb::Unknown;
  std::string verb_text;  // as sent
  std::string argument;   // the text after the verb and its single space (trailing spaces cut)
  ParsedPath path;        // MAIL / RCPT
  MailParameters mail;
  RcptParameters rcpt;
  std::uint64_t bdat_size = 0;  // BDAT
  bool bdat_last = false;
};

struct CommandParseOptions {
  bool esmtp = true;  // EHLO was used: extension parameters may appear (else any → 555)
  AddressLimits limits;
};

struct CommandParseResult {
  Command command;             // verb is always filled in, even on error
  std::optional<Reply> error;  // set when the command must be refused
  bool ok() const { return !error.has_value(); }
};

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF.
inline constexpr std::size_t kMaxCommandLine = 510;  // without CRLF
// RFC 4954 §4: an AUTH command with initial response may be up to 12288 octets.
inline constexpr std::size_t kMaxAuthLine = 12288;

Verb parse_verb(std::string_view word) noexcept;

// `line` excludes CRLF. Lines over kMaxCommandLine (except AUTH, up to kMaxAuthLine) give
// 500 5.5.6 "Line too long".
CommandParseResult parse_command(std::string_view line, const CommandParseOptions& options = {});

// The reply for an AddressError on MAIL (reverse) or RCPT (forward).
Reply address_error_reply(AddressError error, PathKind kind);

}  // namespace ferry::smtp
