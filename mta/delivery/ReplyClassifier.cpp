// ReplyClassifier: the one table from replies and failures to outcomes and RFC 3463 codes.
#include "mta/delivery/ReplyClassifier.hpp"

namespace ferry::delivery {
namespace {

struct ErrorRow {
  AttemptOutcome outcome;
  EnhancedStatus status;
  const char* text;
};

constexpr EnhancedStatus es(std::uint8_t k, std::uint16_t s, std::uint16_t d) { return {k, s, d}; }

ErrorRow row_for(const NetworkError& e) {
  using K = NetworkErrorKind;
  const auto T = AttemptOutcome::Transient;
  const auto P = AttemptOutcome::Permanent;
  switch (e.kind) {
    case K::ConnectRefused:
      return {T, es(4, 4, 1), "connection refused"};
    case K::Timeout:
      // RFC 3463 X.4.1 "no answer from host" before the session is up, X.4.2 "bad connection" after.
      if (e.detail.empty() || e.detail == "connect" || e.detail == "greeting")
        return {T, es(4, 4, 1), "timed out"};
      return {T, es(4, 4, 2), "timed out"};
    case K::ConnectionDropped:
      return {T, es(4, 4, 2), "connection lost"};
    case K::TlsFailure:
      return {T, es(4, 7, 5), "TLS handshake failed"};
    case K::TlsNotOffered:
      return {T, es(4, 7, 4), "TLS is required, but was not offered by host"};
    case K::AuthFailure:
      return {T, es(4, 7, 0), "authentication failed"};
    case K::ProtocolError:
      return {T, es(4, 5, 0), "protocol error"};
    case K::DnsNxDomain:
      return {P, es(5, 1, 2), "domain not found (NXDOMAIN)"};
    case K::DnsNullMx:
      return {P, es(5, 1, 10), "domain does not accept mail (null MX, RFC 7505)"};
    case K::DnsTemporary:
      return {T, es(4, 4, 3), "temporary DNS failure"};
    case K::NoUsableMx:
      return {P, es(5, 4, 4), "no MX host has a usable address"};
    case K::MailLoop:
      return {P, es(5, 4, 6), "mail for this domain loops back to myself"};
    case K::EightBitUnsupported:
      return {P, es(5, 6, 3), "8-bit message body, but the server does not support 8BITMIME"};
    case K::Utf8Unsupported:
      return {P, es(5, 6, 7), "UTF-8 address, but the server does not support SMTPUTF8"};
    case K::MessageTooBig:
      return {P, es(5, 3, 4), "message size exceeds the server's fixed limit"};
    case K::BadAddressLiteral:
      return {P, es(5, 1, 2), "invalid address literal"};
    case K::ConfigError:
      return {T, es(4, 3, 5), "routing configuration error"};
    case K::HostsUnreachable:
      return {T, es(4, 4, 1), "all hosts recently unreachable"};
  }
  return {T, es(4, 5, 0), "unknown error"};
}

}  // namespace

const char* to_string(NetworkErrorKind kind) noexcept {
  using K = NetworkErrorKind;
  switch (kind) {
    case K::ConnectRefused:
      return "connect-refused";
    case K::Timeout:
      return "timeout";
    case K::ConnectionDropped:
      return "connection-dropped";
    case K::TlsFailure:
      return "tls-failure";
    case K::TlsNotOffered:
      return "tls-not-offered";
    case K::AuthFailure:
      return "auth-failure";
    case K::ProtocolError:
      return "protocol-error";
    case K::DnsNxDomain:
      return "dns-nxdomain";
    case K::DnsNullMx:
      return "dns-null-mx";
    case K::DnsTemporary:
      return "dns-temporary";
    case K::NoUsableMx:
      return "no-usable-mx";
    case K::MailLoop:
      return "mail-loop";
    case K::EightBitUnsupported:
      return "8bit-unsupported";
    case K::Utf8Unsupported:
      return "smtputf8-unsupported";
    case K::MessageTooBig:
      return "message-too-big";
    case K::BadAddressLiteral:
      return "bad-address-literal";
    case K::ConfigError:
      return "config-error";
    case K::HostsUnreachable:
      return "hosts-unreachable";
  }
  return "unknown";
}

AttemptOutcome outcome_of(const Reply& reply) {
  // RFC 5321 §4.2.1 / §4.3.2: the first digit decides; unknown codes are treated as transient
  // so that nothing is bounced on a reply we do not understand.
  if (reply.code >= 200 && reply.code < 300) return AttemptOutcome::Delivered;
  if (reply.code >= 500 && reply.code < 600) return AttemptOutcome::Permanent;
  return AttemptOutcome::Transient;
}

EnhancedStatus status_of(const Reply& reply) {
  const int first = reply.code / 100;
  if (reply.code < 200 || reply.code >= 600 || first == 3) return es(4, 5, 0);
  if (reply.status.present()) {
    EnhancedStatus s = reply.status;
    s.klass = static_cast<std::uint8_t>(first);  // RFC 3463 §2: the class agrees with the reply
    return s;
  }
  return es(static_cast<std::uint8_t>(first), 0, 0);
}

Attempt classify_reply(const Reply& reply, TimeMs now_ms) {
  Attempt a;
  a.time_ms = now_ms;
  a.outcome = outcome_of(reply);
  a.code = reply.code;
  a.status = status_of(reply).str();
  a.status_derived =
      !reply.status.present() || reply.code < 200 || reply.code >= 600 || reply.code / 100 == 3;
  a.reply = reply.text;
  return a;
}

Attempt classify_error(const NetworkError& error, TimeMs now_ms) {
  const ErrorRow row = row_for(error);
  Attempt a;
  a.time_ms = now_ms;
  a.outcome = row.outcome;
  a.code = 0;
  a.status = row.status.str();
  a.reply = row.text;
  if (!error.detail.empty()) {
    a.reply += error.kind == NetworkErrorKind::Timeout ? " while waiting for " : ": ";
    a.reply += error.detail;
  }
  return a;
}

Attempt expired_attempt(const Attempt* last, TimeMs now_ms) {
  Attempt a;
  a.time_ms = now_ms;
  a.outcome = AttemptOutcome::Expired;
  a.status = "4.4.7";  // RFC 3463 X.4.7 delivery time expired
  a.reply = "delivery time expired";
  if (last) {
    a.host = last->host;
    a.ip = last->ip;
    a.port = last->port;
    a.reply += "; last error: ";
    if (last->code) a.reply += std::to_string(last->code) + " ";
    if (!last->status.empty()) a.reply += last->status + " ";
    a.reply += last->reply;
  }
  return a;
}

}  // namespace ferry::delivery
