// DsnCases: one composed report per kind the golden files and the MIME-parser test check.
// Contract: each case is deterministic; its name is the golden file's stem (tests/golden/dsn).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "unit/dsn/DsnFixtures.hpp"

namespace ferry::dsn::test {

struct Case {
  std::string name;
  std::optional<DsnMessage> dsn;
};

// GoogleTest prints a parameter by its name, not its bytes.
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Failed: Bob 550 5.1.1 from mx.example.com, Carol 5.1.10 null MX with no remote MTA.
inline Case case_failed() {
  const Envelope env = base_envelope();
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  in.recipients.push_back({1, carol_null_mx(), std::nullopt, false});
  return {"failed", compose(in)};
}

// Delayed: greylisted (451 4.7.1) at the remote, retried until five days after arrival; a zone.
inline Case case_delayed() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Delay);
  in.utc_offset_minutes = 60;
  in.retry_until_ms = kRetryUntil;
  in.recipients.push_back({0,
                           remote(kNow - 60000, AttemptOutcome::Transient, 451, "4.7.1",
                                  "Greylisted, please try again in 900 seconds"),
                           std::nullopt, false});
  return {"delayed", compose(in)};
}

// Delivered: NOTIFY=SUCCESS, final delivery.
inline Case case_delivered() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  env.recipients[0].notify = kNotifySuccess | kNotifyFailure;
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Success);
  in.recipients.push_back({0,
                           remote(kNow, AttemptOutcome::Delivered, 250, "2.0.0", "Ok: queued as 4TQ9xY0Bz3z"),
                           std::nullopt, false});
  return {"delivered", compose(in)};
}

// Relayed: NOTIFY=SUCCESS and the next hop does not offer DSN (RFC 3461 §5.2.2).
inline Case case_relayed() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  env.recipients[0].notify = kNotifySuccess;
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Success);
  in.recipients.push_back({0,
                           remote(kNow, AttemptOutcome::Delivered, 250, "", "OK id=1rVb9c-0004Xy-2A",
                                  "mail.example.com", "2001:db8::25"),
                           std::nullopt, true});
  return {"relayed", compose(in)};
}

// Expired: max age reached (4.4.7); the last transient reply is the diagnostic.
inline Case case_expired() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.now_ms = kRetryUntil + 1000;
  const Attempt last = remote(kRetryUntil - 1800000, AttemptOutcome::Transient, 452, "4.2.2", "Mailbox full",
                              "mx2.example.com", "192.0.2.26");
  Attempt expired;
  expired.time_ms = kRetryUntil + 1000;
  expired.outcome = AttemptOutcome::Expired;
  expired.host = last.host;
  expired.ip = last.ip;
  expired.status = "4.4.7";
  expired.reply = "delivery time expired; last error: 452 4.2.2 Mailbox full";
  in.recipients.push_back({0, expired, last, false});
  return {"expired", compose(in)};
}

inline std::string long_original() {
  std::string m = original_message();
  for (int i = 0; i < 40; ++i)
    m += "Line " + std::to_string(i) + " of a long body that will not all come back.\r\n";
  return m;
}

// RET=FULL: the whole original comes back as message/rfc822.
inline Case case_ret_full() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  env.ret = DsnRet::Full;
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  return {"ret_full", compose(in)};
}

// RET=FULL over the cap: header section whole, body cut at a line boundary.
inline Case case_ret_full_truncated() {
  Envelope env = base_envelope();
  env.recipients.resize(1);
  env.ret = DsnRet::Full;
  const std::string orig = long_original();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.max_return_size = 800;
  in.recipients.push_back({0, bob_unknown(), std::nullopt, false});
  return {"ret_full_truncated", compose(in)};
}

// ENVID and ORCPT (xtext-decoded for Original-Recipient), RET=HDRS, a long reply to fold.
inline Case case_envid_orcpt() {
  Envelope env = base_envelope();
  env.ret = DsnRet::Hdrs;
  env.envid = "QQ314159";
  env.recipients[0].orcpt = "rfc822;Bob+2Bsales@Example.COM";
  env.recipients[0].notify = kNotifyFailure | kNotifyDelay;
  env.recipients[1].notify = kNotifyNever;  // not reported
  const std::string orig = original_message();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0,
                           remote(kNow - 1000, AttemptOutcome::Permanent, 550, "5.7.1",
                                  "Service unavailable, Client host [203.0.113.9] blocked using "
                                  "zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9 "
                                  "(see the policy page of example.com for how to request delisting)"),
                           std::nullopt, false});
  in.recipients.push_back({1, carol_null_mx(), std::nullopt, false});
  return {"envid_orcpt", compose(in)};
}

inline std::string utf8_original() {
  return "From: Jörg <jörg@bücher.example>\r\n"
         "To: 用户@example.net\r\n"
         "Subject: Grüße aus Köln\r\n"
         "Message-ID: <utf8.1@bücher.example>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n"
         "\r\n"
         "Schöne Grüße!\r\n";
}

// SMTPUTF8: UTF-8 sender, recipient and headers → message/global-delivery-status and
// message/global-headers (RFC 6533), SMTPUTF8 needed to send.
inline Case case_smtputf8() {
  Envelope env;
  env.reverse_path = "jörg@bücher.example";
  env.recipients.push_back({"用户@example.net", "", kNotifyUnspecified});
  env.smtputf8 = true;
  env.body_type = BodyType::EightBitMime;
  env.client.address = "198.51.100.8";
  env.client.helo = "mail.bücher.example";
  env.arrival_ms = kArrival;
  const std::string orig = utf8_original();
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.recipients.push_back({0,
                           remote(kNow, AttemptOutcome::Permanent, 550, "5.1.1", "用户不存在 (no such user)",
                                  "mx.example.net", "192.0.2.30"),
                           std::nullopt, false});
  return {"smtputf8", compose(in)};
}

// A failed "<>" message with [bounce] postmaster set: the postmaster copy, whole.
inline Case case_double_bounce() {
  Envelope env;
  env.reverse_path = "";
  env.recipients.push_back({"alice@gone.example", "", kNotifyNever});
  env.client.protocol = "local";
  env.arrival_ms = kArrival;
  const std::string orig =
      "From: Mail Delivery System <MAILER-DAEMON@mx.ferry.test>\r\n"
      "To: <alice@gone.example>\r\n"
      "Subject: Undelivered Mail Returned to Sender\r\n"
      "Message-ID: <01HQ7ZFIRST@mx.ferry.test>\r\n"
      "Auto-Submitted: auto-replied\r\n"
      "\r\n"
      "(the first report)\r\n";
  DsnInput in = base_input(env, orig, ReportKind::Failure);
  in.postmaster_address = "postmaster@ferry.test";
  Attempt a;
  a.time_ms = kNow;
  a.outcome = AttemptOutcome::Permanent;
  a.status = "5.1.2";
  a.reply = "domain not found (NXDOMAIN): gone.example";
  in.recipients.push_back({0, a, std::nullopt, false});
  return {"double_bounce", compose(in)};
}

inline std::vector<Case> all_cases() {
  return {case_failed(),   case_delayed(),      case_delivered(),          case_relayed(),
          case_expired(),  case_ret_full(),     case_ret_full_truncated(), case_envid_orcpt(),
          case_smtputf8(), case_double_bounce()};
}

}  // namespace ferry::dsn::test
