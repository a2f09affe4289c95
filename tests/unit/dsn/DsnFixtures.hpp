// DsnFixtures: the fixed envelopes, stored messages and attempts the DSN tests report on.
// Contract: deterministic (fixed clock and unique token), so composed reports are byte-stable.
#pragma once

#include <string>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/RecipientState.hpp"
#include "mta/dsn/DsnComposer.hpp"

namespace ferry::dsn::test {

inline constexpr TimeMs kArrival = 1706781600000;           // Thu, 01 Feb 2024 10:00:00 +0000
inline constexpr TimeMs kNow = kArrival + 3 * 3600 * 1000;  // three hours later
inline constexpr TimeMs kRetryUntil = kArrival + 5LL * 24 * 3600 * 1000;

inline std::string original_message() {
  return "Received: from client.example.org (client.example.org [198.51.100.7])\r\n"
         "\tby mx.ferry.test (Ferry) with ESMTPS id 01HQ7Z3ABCDEF\r\n"
         "\tfor <bob@example.com>; Thu, 01 Feb 2024 10:00:00 +0000\r\n"
         "From: Alice <alice@example.org>\r\n"
         "To: Bob <bob@example.com>, Carol <carol@nullmx.example>\r\n"
         "Subject: Quarterly figures\r\n"
         "Date: Thu, 01 Feb 2024 10:59:58 +0100\r\n"
         "Message-ID:\r\n <20240201095958.4711@client.example.org>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=us-ascii\r\n"
         "\r\n"
         "Hello Bob,\r\n"
         "\r\n"
         "the figures are attached in spirit.\r\n"
         "\r\n"
         "Alice\r\n";
}

inline Envelope base_envelope() {
  Envelope e;
  e.reverse_path = "alice@example.org";
  e.recipients.push_back({"bob@example.com", "", kNotifyUnspecified});
  e.recipients.push_back({"carol@nullmx.example", "", kNotifyUnspecified});
  e.client.address = "198.51.100.7";
  e.client.helo = "client.example.org";
  e.client.protocol = "ESMTPS";
  e.arrival_ms = kArrival;
  e.size = original_message().size();
  return e;
}

inline Attempt remote(TimeMs t, AttemptOutcome outcome, int code, std::string status, std::string reply,
                      std::string host = "mx.example.com", std::string ip = "192.0.2.25") {
  Attempt a;
  a.time_ms = t;
  a.outcome = outcome;
  a.host = std::move(host);
  a.ip = std::move(ip);
  a.port = 25;
  a.code = code;
  a.status = std::move(status);
  a.reply = std::move(reply);
  return a;
}

// Bob's mailbox does not exist: a two-line 550 5.1.1 (the parser took the code off each line).
inline Attempt bob_unknown() {
  return remote(kNow - 1000, AttemptOutcome::Permanent, 550, "5.1.1",
                "The email account that you tried to reach does not exist. Please try\n"
                "double-checking the recipient's email address for typos or unnecessary spaces.");
}

// Carol's domain has a null MX: a local verdict, no remote MTA involved.
inline Attempt carol_null_mx() {
  Attempt a;
  a.time_ms = kNow - 900;
  a.outcome = AttemptOutcome::Permanent;
  a.status = "5.1.10";
  a.reply = "domain does not accept mail (null MX, RFC 7505)";
  return a;
}

inline DsnInput base_input(const Envelope& env, const std::string& original, ReportKind kind) {
  DsnInput in;
  in.reporting_mta = "mx.ferry.test";
  in.envelope = &env;
  in.original = original;
  in.original_queue_id = "01HQ7Z3ABCDEF";
  in.kind = kind;
  in.now_ms = kNow;
  in.unique = "01HQ8BOUNCE42";
  return in;
}

}  // namespace ferry::dsn::test
