// ClientSession transcripts against scripted servers: what the client sends (C:) for each server
// reply (S:), and the per-recipient results it reports.
#include "mta/smtp/ClientSession.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace ferry;
using namespace ferry::smtp;

namespace {

constexpr const char* kEhloFull =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250 DSN\r\n";
constexpr const char* kEhloPlain = "250-mx.example.org\r\n250 ENHANCEDSTATUSCODES\r\n";  // no PIPELINING

Envelope envelope(std::vector<std::string> rcpts, std::string from = "sender@ferry.test") {
  Envelope e;
  e.reverse_path = std::move(from);
  for (auto& r : rcpts) e.recipients.push_back(EnvelopeRecipient{std::move(r), "", kNotifyUnspecified});
  return e;
}

ClientOptions options() {
  ClientOptions o;
  o.helo_name = "relay.ferry.test";
  o.remote_host = "mx.example.org";
  o.remote_ip = "192.0.2.1";
  o.remote_port = 25;
  o.clock = [] { return TimeMs{1234}; };
  return o;
}

// Drives a session: server() feeds bytes and returns what the client wrote, with markers for the
// non-write actions ("<STARTTLS>", "<CLOSE>").
struct Harness {
  std::string body;
  ClientSession s;
  std::vector<ClientDone> dones;
  std::vector<bool> data_writes;  // message_data flag per ClientSend
  bool closed = false;

  Harness(Envelope e, std::string b, ClientOptions o = options(), std::vector<std::uint32_t> rcpts = {})
      : body(std::move(b)), s(std::move(o), std::move(e), body, std::move(rcpts)) {}

  std::string drain() {
    std::string out;
    for (auto& a : s.take_actions()) {
      if (auto* send = std::get_if<ClientSend>(&a)) {
        out += send->bytes;
        data_writes.push_back(send->message_data);
      } else if (std::holds_alternative<ClientStartTls>(a)) {
        out += "<STARTTLS>";
      } else if (auto* d = std::get_if<ClientDone>(&a)) {
        dones.push_back(*d);
      } else {
        out += "<CLOSE>";
        closed = true;
      }
    }
    return out;
  }
  std::string server(std::string_view bytes) {
    s.feed(bytes);
    return drain();
  }
  // All results reported so far, by recipient index; fails the test on a duplicate.
  std::map<std::uint32_t, Attempt> results() const {
    std::map<std::uint32_t, Attempt> out;
    for (const auto& d : dones)
      for (const auto& r : d.results)
        EXPECT_TRUE(out.emplace(r.index, r.attempt).second) << "duplicate " << r.index;
    return out;
  }
  std::string outcome(std::uint32_t i) const {
    auto r = results();
    auto it = r.find(i);
    if (it == r.end()) return "none";
    return std::string(to_string(it->second.outcome)) + " " + std::to_string(it->second.code) + " " +
           it->second.status;
  }
};

std::string ehlo() { return "EHLO relay.ferry.test\r\n"; }

}  // namespace

TEST(clientSession, PipelinedTransactionAndQuit) {
  Harness h(envelope({"a@example.org", "b@example.org"}), "Subject: hi\r\n\r\n.body\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Greeting);
  EXPECT_EQ(h.server("220 mx.example.org ESMTP\r\n"), ehlo());
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Command);
  // RFC 2920: MAIL, RCPTs and DATA in one write.
  EXPECT_EQ(h.server(kEhloFull),
            "MAIL FROM:<sender@ferry.test> SIZE=22\r\nRCPT TO:<a@example.org>\r\nRCPT "
            "TO:<b@example.org>\r\nDATA\r\n");
  EXPECT_EQ(h.data_writes.size(), 2u);  // EHLO, then the group
  EXPECT_TRUE(h.s.capabilities().pipelining);
  EXPECT_EQ(h.s.capabilities().size_limit, 10240000u);
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Mail);
  EXPECT_EQ(h.server("250 2.1.0 Ok\r\n"), "");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Rcpt);
  EXPECT_EQ(h.server("250 2.1.5 Ok\r\n550 5.1.1 <b@example.org>: unknown\r\n"), "");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::DataInit);
  EXPECT_EQ(h.server("354 End data with <CR><LF>.<CR><LF>\r\n"), "Subject: hi\r\n\r\n..body\r\n.\r\n");
  EXPECT_TRUE(h.data_writes.back());
  EXPECT_EQ(h.s.current_phase(), ClientPhase::DataDone);
  EXPECT_TRUE(h.dones.empty());
  EXPECT_EQ(h.server("250 2.0.0 Ok: queued as 123\r\n"), "");
  ASSERT_EQ(h.dones.size(), 1u);
  EXPECT_FALSE(h.dones[0].session_failure);
  EXPECT_TRUE(h.dones[0].remote_dsn);
  EXPECT_EQ(h.outcome(0), "delivered 250 2.0.0");
  EXPECT_EQ(h.outcome(1), "bounced 550 5.1.1");
  const Attempt a = h.results()[0];
  EXPECT_EQ(a.host, "mx.example.org");
  EXPECT_EQ(a.ip, "192.0.2.1");
  EXPECT_EQ(a.port, 25);
  EXPECT_EQ(a.time_ms, 1234);
  EXPECT_EQ(a.reply, "Ok: queued as 123");
  EXPECT_EQ(h.results()[1].reply, "<b@example.org>: unknown");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Idle);
  EXPECT_EQ(h.s.messages_sent(), 1u);
  h.s.finish();
  EXPECT_EQ(h.drain(), "QUIT\r\n");
  EXPECT_EQ(h.server("221 2.0.0 Bye\r\n"), "<CLOSE>");
  EXPECT_TRUE(h.s.closed());
}

TEST(clientSession, LockStepWithoutPipelining) {
  Harness h(envelope({"a@example.org", "b@example.org"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server(kEhloPlain), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Mail);
  EXPECT_EQ(h.server("250 ok\r\n"), "RCPT TO:<a@example.org>\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Rcpt);
  EXPECT_EQ(h.server("450 4.2.1 try later\r\n"), "RCPT TO:<b@example.org>\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "DATA\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::DataInit);
  EXPECT_EQ(h.server("354 go\r\n"), "x\r\n.\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "");
  EXPECT_EQ(h.outcome(0), "deferred 450 4.2.1");
  EXPECT_EQ(h.outcome(1), "delivered 250 2.0.0");
}

TEST(clientSession, PipeliningCanBeDisabled) {
  ClientOptions o = options();
  o.use_pipelining = false;
  Harness h(envelope({"a@example.org"}), "x", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server(kEhloFull), "MAIL FROM:<sender@ferry.test> SIZE=1\r\n");
}

struct GreetingCase {
  const char* greeting;
  const char* client_writes;
  int code;
};
class clientSessionGreeting : public ::testing::TestWithParam<GreetingCase> {};
TEST_P(clientSessionGreeting, FailsTransientForAll) {
  Harness h(envelope({"a@example.org", "b@example.org"}), "x\r\n");
  EXPECT_EQ(h.server(GetParam().greeting), GetParam().client_writes);
  ASSERT_EQ(h.dones.size(), 1u);
  EXPECT_TRUE(h.dones[0].session_failure);  // try the next MX
  for (std::uint32_t i : {0u, 1u}) {
    const Attempt a = h.results()[i];
    EXPECT_EQ(a.outcome, AttemptOutcome::Transient);
    EXPECT_EQ(a.code, GetParam().code);
    EXPECT_EQ(a.status[0], '4');
  }
}
INSTANTIATE_TEST_SUITE_P(clientTable, clientSessionGreeting,
                         ::testing::Values(GreetingCase{"421 4.3.2 too busy\r\n", "<CLOSE>", 421},
                                           GreetingCase{"554 5.7.1 no thanks\r\n", "QUIT\r\n", 554},
                                           GreetingCase{"450 later\r\n", "QUIT\r\n", 450}));

TEST(clientSession, MultiLineGreetingAndEhloFallbackToHelo) {
  Harness h(envelope({"a@example.org"}), "x\r\n");
  EXPECT_EQ(h.server("220-mx.example.org\r\n220 old server\r\n"), ehlo());
  EXPECT_EQ(h.server("502 5.5.2 Command not recognized\r\n"), "HELO relay.ferry.test\r\n");
  EXPECT_EQ(h.server("250 mx.example.org\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_FALSE(h.s.capabilities().esmtp);
}

TEST(clientSession, Ehlo500ThenHeloRefused) {
  Harness h(envelope({"a@example.org"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("500 what?\r\n"), "HELO relay.ferry.test\r\n");
  EXPECT_EQ(h.server("550 go away\r\n"), "QUIT\r\n");
  EXPECT_EQ(h.outcome(0), "deferred 550 4.0.0");
  EXPECT_TRUE(h.dones[0].session_failure);
}

TEST(clientSession, EhloTemporaryFailure) {
  Harness h(envelope({"a@example.org"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("451 4.3.0 later\r\n"), "QUIT\r\n");
  EXPECT_EQ(h.outcome(0), "deferred 451 4.3.0");
}

TEST(clientSession, StartTlsThenEhloAgainAndInjectionDiscarded) {
  Harness h(envelope({"a@example.org"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"), "STARTTLS\r\n");
  // A plaintext reply smuggled after the 220 must not be read as a post-TLS reply (RFC 3207 §4.2).
  EXPECT_EQ(h.server("220 2.0.0 Ready to start TLS\r\n250 injected\r\n"), "<STARTTLS>");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::TlsHandshake);
  EXPECT_EQ(h.server("250 more injected\r\n"), "");
  h.s.tls_started();
  EXPECT_TRUE(h.s.tls_active());
  EXPECT_EQ(h.drain(), ehlo());
  EXPECT_FALSE(h.s.capabilities().pipelining);  // forgotten
  EXPECT_EQ(h.server("250-mx\r\n250 PIPELINING\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@example.org>\r\nDATA\r\n");
}

struct TlsCase {
  ClientTlsPolicy policy;
  bool tls_active;
  bool offered;
  const char* after_ehlo;
};
class clientSessionTlsPolicy : public ::testing::TestWithParam<TlsCase> {};
TEST_P(clientSessionTlsPolicy, Decides) {
  ClientOptions o = options();
  o.tls = GetParam().policy;
  o.tls_active = GetParam().tls_active;
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server(GetParam().offered ? "250-mx\r\n250 STARTTLS\r\n" : "250 mx\r\n"),
            GetParam().after_ehlo);
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientSessionTlsPolicy,
    ::testing::Values(
        TlsCase{ClientTlsPolicy::Opportunistic, false, true, "STARTTLS\r\n"},
        TlsCase{ClientTlsPolicy::Opportunistic, false, false, "MAIL FROM:<sender@ferry.test>\r\n"},
        TlsCase{ClientTlsPolicy::None, false, true, "MAIL FROM:<sender@ferry.test>\r\n"},
        TlsCase{ClientTlsPolicy::Required, false, true, "STARTTLS\r\n"},
        TlsCase{ClientTlsPolicy::Verify, false, true, "STARTTLS\r\n"},
        TlsCase{ClientTlsPolicy::Required, false, false, "QUIT\r\n"},
        TlsCase{ClientTlsPolicy::Verify, false, false, "QUIT\r\n"},
        TlsCase{ClientTlsPolicy::Verify, true, false, "MAIL FROM:<sender@ferry.test>\r\n"},
        TlsCase{ClientTlsPolicy::Opportunistic, true, true, "MAIL FROM:<sender@ferry.test>\r\n"}));

TEST(clientSession, TlsRequiredButNotOfferedIsTransientWithClearReply) {
  ClientOptions o = options();
  o.tls = ClientTlsPolicy::Required;
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  h.server("250 mx\r\n");
  const Attempt a = h.results()[0];
  EXPECT_EQ(a.outcome, AttemptOutcome::Transient);
  EXPECT_EQ(a.status, "4.7.4");
  EXPECT_EQ(a.code, 0);
  EXPECT_NE(a.reply.find("TLS is required"), std::string::npos);
  EXPECT_TRUE(h.dones[0].session_failure);
}

TEST(clientSession, StartTlsRefused) {
  for (auto policy : {ClientTlsPolicy::Opportunistic, ClientTlsPolicy::Required}) {
    ClientOptions o = options();
    o.tls = policy;
    Harness h(envelope({"a@example.org"}), "x\r\n", o);
    h.server("220 hi\r\n");
    h.server("250-mx\r\n250 STARTTLS\r\n");
    const std::string out = h.server("454 4.7.0 TLS not available\r\n");
    if (policy == ClientTlsPolicy::Opportunistic) {
      EXPECT_EQ(out, "MAIL FROM:<sender@ferry.test>\r\n");
    } else {
      EXPECT_EQ(out, "QUIT\r\n");
      EXPECT_EQ(h.outcome(0), "deferred 454 4.7.0");
    }
  }
}

TEST(clientSession, AuthPlain) {
  ClientOptions o = options();
  o.tls_active = true;
  o.auth_user = "ferry";
  o.auth_password = "secret";
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  // base64("\0ferry\0secret")
  EXPECT_EQ(h.server("250-mx\r\n250 AUTH LOGIN PLAIN\r\n"), "AUTH PLAIN AGZlcnJ5AHNlY3JldA==\r\n");
  EXPECT_EQ(h.server("235 2.7.0 Authentication successful\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_TRUE(h.s.authenticated());
}

TEST(clientSession, AuthPlainWithEmptyChallenge) {
  ClientOptions o = options();
  o.tls_active = true;
  o.auth_user = "ferry";
  o.auth_password = "secret";
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 AUTH=PLAIN\r\n");
  EXPECT_EQ(h.server("334 \r\n"), "AGZlcnJ5AHNlY3JldA==\r\n");
  EXPECT_EQ(h.server("235 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
}

TEST(clientSession, AuthLogin) {
  ClientOptions o = options();
  o.tls_active = true;
  o.auth_user = "ferry";
  o.auth_password = "secret";
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250 AUTH LOGIN\r\n"), "AUTH LOGIN\r\n");
  EXPECT_EQ(h.server("334 VXNlcm5hbWU6\r\n"), "ZmVycnk=\r\n");
  EXPECT_EQ(h.server("334 UGFzc3dvcmQ6\r\n"), "c2VjcmV0\r\n");
  EXPECT_EQ(h.server("235 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
}

struct AuthFailCase {
  const char* ehlo;
  bool tls;
  const char* reply;  // server reply to AUTH, or "" when AUTH is never sent
  const char* expect;
};
class clientSessionAuthFailure : public ::testing::TestWithParam<AuthFailCase> {};
TEST_P(clientSessionAuthFailure, IsTransient) {
  ClientOptions o = options();
  o.tls_active = GetParam().tls;
  o.auth_user = "ferry";
  o.auth_password = "wrong";
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  std::string out = h.server(GetParam().ehlo);
  if (*GetParam().reply) out = h.server(GetParam().reply);
  EXPECT_EQ(out, "QUIT\r\n");
  EXPECT_EQ(h.outcome(0), GetParam().expect);
  EXPECT_TRUE(h.dones[0].session_failure);
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientSessionAuthFailure,
    ::testing::Values(AuthFailCase{"250-mx\r\n250 AUTH PLAIN\r\n", true, "535 5.7.8 bad credentials\r\n",
                                   "deferred 535 4.7.8"},
                      AuthFailCase{"250-mx\r\n250 AUTH PLAIN\r\n", true, "454 4.7.0 try later\r\n",
                                   "deferred 454 4.7.0"},
                      AuthFailCase{"250-mx\r\n250 AUTH CRAM-MD5\r\n", true, "", "deferred 0 4.7.0"},
                      AuthFailCase{"250 mx\r\n", true, "", "deferred 0 4.7.0"},
                      AuthFailCase{"250-mx\r\n250 AUTH PLAIN\r\n", false, "", "deferred 0 4.7.0"}));

TEST(clientSession, TooManyRecipientsGoToAFollowingTransaction) {
  // RFC 5321 §4.5.3.1.10: the server takes 100, answers 452 to the 101st and later.
  std::vector<std::string> rcpts;
  for (int i = 0; i < 150; ++i) {
    std::string r = "r";
    r += std::to_string(i);
    r += "@example.org";
    rcpts.push_back(std::move(r));
  }
  Harness h(envelope(rcpts), "x\r\n");
  h.server("220 hi\r\n");
  const std::string group = h.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_NE(group.find("RCPT TO:<r149@example.org>\r\nDATA\r\n"), std::string::npos);
  std::string replies = "250 ok\r\n";
  for (int i = 0; i < 100; ++i) replies += "250 ok\r\n";
  for (int i = 0; i < 50; ++i) replies += "452 4.5.3 Too many recipients\r\n";
  EXPECT_EQ(h.server(replies + "354 go\r\n"), "x\r\n.\r\n");
  const std::string second = h.server("250 2.0.0 queued 1\r\n");
  ASSERT_EQ(h.dones.size(), 1u);
  EXPECT_EQ(h.dones[0].results.size(), 100u);
  ASSERT_EQ(h.dones[0].carried.size(), 50u);
  EXPECT_EQ(h.dones[0].carried.front(), 100u);
  // the session itself opens the next transaction with the carried ones
  EXPECT_EQ(second.rfind("MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<r100@example.org>\r\n", 0), 0u);
  EXPECT_NE(second.find("RCPT TO:<r149@example.org>\r\nDATA\r\n"), std::string::npos);
  EXPECT_EQ(second.find("RCPT TO:<r99@"), std::string::npos);
  replies = "250 ok\r\n";
  for (int i = 0; i < 50; ++i) replies += "250 ok\r\n";
  h.server(replies + "354 go\r\n");
  h.server("250 2.0.0 queued 2\r\n");
  ASSERT_EQ(h.dones.size(), 2u);
  auto all = h.results();
  ASSERT_EQ(all.size(), 150u);
  for (const auto& [i, a] : all) EXPECT_EQ(a.outcome, AttemptOutcome::Delivered) << i;
  EXPECT_EQ(all[0].reply, "queued 1");
  EXPECT_EQ(all[149].reply, "queued 2");
  EXPECT_EQ(h.s.messages_sent(), 2u);
  EXPECT_TRUE(h.s.idle());
}

TEST(clientSession, TooManyWithoutPipeliningStopsSendingRcpts) {
  Harness h(envelope({"a@x", "b@x", "c@x", "d@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  h.server("250 ok\r\n");  // MAIL → RCPT a
  EXPECT_EQ(h.server("250 ok\r\n"), "RCPT TO:<b@x>\r\n");
  EXPECT_EQ(h.server("452 4.5.3 too many\r\n"), "DATA\r\n");  // c, d never tried here
  h.server("354 go\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_EQ(h.dones[0].carried, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(h.server("250 ok\r\n"), "RCPT TO:<b@x>\r\n");
}

struct RcptCase {
  const char* reply;
  const char* outcome;
  bool carried;
};
class clientSessionSecondRcpt : public ::testing::TestWithParam<RcptCase> {};
TEST_P(clientSessionSecondRcpt, Classifies) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server(std::string("250 ok\r\n250 ok\r\n") + GetParam().reply + "354 go\r\n");
  h.server("250 ok\r\n");
  ASSERT_FALSE(h.dones.empty());
  EXPECT_EQ(!h.dones[0].carried.empty(), GetParam().carried);
  if (!GetParam().carried) {
    EXPECT_EQ(h.outcome(1), GetParam().outcome);
  }
}
INSTANTIATE_TEST_SUITE_P(clientTable, clientSessionSecondRcpt,
                         ::testing::Values(RcptCase{"250 2.1.5 ok\r\n", "delivered 250 2.0.0", false},
                                           RcptCase{"251 2.1.5 will forward\r\n", "delivered 250 2.0.0",
                                                    false},
                                           RcptCase{"450 4.2.1 greylisted\r\n", "deferred 450 4.2.1", false},
                                           RcptCase{"451 local error\r\n", "deferred 451 4.0.0", false},
                                           RcptCase{"550 5.1.1 unknown\r\n", "bounced 550 5.1.1", false},
                                           RcptCase{"553 bad address\r\n", "bounced 553 5.0.0", false},
                                           RcptCase{"552 5.2.2 mailbox full\r\n", "bounced 552 5.2.2", false},
                                           RcptCase{"552 5.5.3 too many recipients\r\n", "", true},
                                           RcptCase{"552 Too many recipients\r\n", "", true},
                                           RcptCase{"452 4.5.3 too many\r\n", "", true}));

TEST(clientSession, FirstRcpt452IsAnOrdinaryTransientFailure) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server("250 ok\r\n452 4.2.2 mailbox full\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok\r\n");
  EXPECT_TRUE(h.dones[0].carried.empty());
  EXPECT_EQ(h.outcome(0), "deferred 452 4.2.2");
  EXPECT_EQ(h.outcome(1), "delivered 250 2.0.0");
}

TEST(clientSession, AllRcptsRefusedLockStepMeansRsetAndNoData) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  h.server("250 ok\r\n");
  h.server("550 5.1.1 no\r\n");
  EXPECT_EQ(h.server("450 4.1.1 later\r\n"), "RSET\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_EQ(h.outcome(1), "deferred 450 4.1.1");
  EXPECT_TRUE(h.s.idle());
  for (bool d : h.data_writes) EXPECT_FALSE(d);
}

TEST(clientSession, AllRcptsRefusedPipelinedSendsNoData) {
  Harness h(envelope({"a@x"}), "secret body\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(h.server("250 ok\r\n550 5.1.1 no\r\n554 5.5.1 no valid recipients\r\n"), "");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_TRUE(h.s.idle());
}

TEST(clientSession, PipelinedServerSays354WithoutRecipientsGetsEmptyMessage) {
  Harness h(envelope({"a@x"}), "secret body\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(h.server("250 ok\r\n550 5.1.1 no\r\n354 go\r\n"), ".\r\n");  // never the body
  EXPECT_EQ(h.server("554 no recipients\r\n"), "");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_EQ(h.s.messages_sent(), 0u);
}

TEST(clientSession, MailRefusedDecidesForEveryone) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(h.server("550 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"
                     "503 5.5.1 need MAIL\r\n"),
            "");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.7.1");
  EXPECT_EQ(h.outcome(1), "bounced 550 5.7.1");
  EXPECT_EQ(h.results()[0].reply, "sender rejected");
  EXPECT_TRUE(h.s.idle());
}

TEST(clientSession, MailTemporaryLockStep) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  EXPECT_EQ(h.server("451 4.3.0 try later\r\n"), "");
  EXPECT_EQ(h.outcome(0), "deferred 451 4.3.0");
  EXPECT_EQ(h.outcome(1), "deferred 451 4.3.0");
  EXPECT_FALSE(h.dones[0].session_failure);
}

struct FinalCase {
  const char* data_reply;   // reply to DATA
  const char* final_reply;  // reply to the dot ("" when DATA was refused)
  const char* outcome;
  bool body_sent;
};
class clientSessionFinal : public ::testing::TestWithParam<FinalCase> {};
TEST_P(clientSessionFinal, AppliesToEveryAcceptedRecipient) {
  Harness h(envelope({"a@x", "b@x", "c@x"}), "body\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  const std::string out =
      h.server(std::string("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n") + GetParam().data_reply);
  EXPECT_EQ(out == "body\r\n.\r\n", GetParam().body_sent) << out;
  if (*GetParam().final_reply) h.server(GetParam().final_reply);
  EXPECT_EQ(h.outcome(0), GetParam().outcome);
  EXPECT_EQ(h.outcome(2), GetParam().outcome);
  EXPECT_EQ(h.outcome(1), "bounced 550 5.1.1");
  EXPECT_TRUE(h.s.idle());
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientSessionFinal,
    ::testing::Values(FinalCase{"354 go\r\n", "250 2.0.0 ok\r\n", "delivered 250 2.0.0", true},
                      FinalCase{"354 go\r\n", "554 5.7.1 spam\r\n", "bounced 554 5.7.1", true},
                      FinalCase{"354 go\r\n", "552 5.3.4 too big\r\n", "bounced 552 5.3.4", true},
                      FinalCase{"354 go\r\n", "451 4.3.0 local error\r\n", "deferred 451 4.3.0", true},
                      FinalCase{"354 go\r\n", "450-4.7.1 greylisted\r\n450 4.7.1 come back later\r\n",
                                "deferred 450 4.7.1", true},
                      FinalCase{"354 go\r\n", "354 what\r\n", "deferred 354 4.5.0", true},
                      FinalCase{"451 4.3.0 no DATA now\r\n", "", "deferred 451 4.3.0", false},
                      FinalCase{"554 5.5.1 no\r\n", "", "bounced 554 5.5.1", false},
                      FinalCase{"250 what\r\n", "", "deferred 250 4.5.0", false}));

TEST(clientSession, MultiLineFinalReplyText) {
  Harness h(envelope({"a@x"}), "b\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250-2.0.0 Ok\r\n250 2.0.0 queued as ABC\r\n");
  EXPECT_EQ(h.results()[0].reply, "Ok\nqueued as ABC");
}

TEST(clientSession, EightBitBodyNeeds8BitMime) {
  const std::string body = "Subject: caf\xC3\xA9\r\n\r\nx\r\n";
  Harness no(envelope({"a@x"}), body);
  no.server("220 hi\r\n");
  EXPECT_EQ(no.server("250-mx\r\n250 PIPELINING\r\n"), "");  // nothing sent
  EXPECT_EQ(no.outcome(0), "bounced 0 5.6.3");
  EXPECT_TRUE(no.s.idle());
  Harness yes(envelope({"a@x"}), body);
  yes.server("220 hi\r\n");
  EXPECT_EQ(yes.server("250-mx\r\n250 8BITMIME\r\n"), "MAIL FROM:<sender@ferry.test> BODY=8BITMIME\r\n");
  // a declared 8BITMIME body with only ASCII: declared when possible, never refused
  Envelope e = envelope({"a@x"});
  e.body_type = BodyType::EightBitMime;
  Harness ascii(e, "plain\r\n");
  ascii.server("220 hi\r\n");
  EXPECT_EQ(ascii.server("250 mx\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
}

TEST(clientSession, Utf8AddressesNeedSmtpUtf8) {
  Envelope e = envelope({"ascii@x", "j\xC3\xBCrgen@x"});
  e.smtputf8 = true;
  Harness no(e, "x\r\n");
  no.server("220 hi\r\n");
  EXPECT_EQ(no.server("250-mx\r\n250 PIPELINING\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<ascii@x>\r\nDATA\r\n");
  no.server("250 ok\r\n250 ok\r\n354 go\r\n");
  no.server("250 ok\r\n");
  EXPECT_EQ(no.outcome(0), "delivered 250 2.0.0");
  EXPECT_EQ(no.outcome(1), "bounced 0 5.6.7");
  Harness yes(e, "x\r\n");
  yes.server("220 hi\r\n");
  EXPECT_EQ(yes.server("250-mx\r\n250 SMTPUTF8\r\n"), "MAIL FROM:<sender@ferry.test> SMTPUTF8\r\n");
  Harness sender(envelope({"a@x", "b@x"}, "s\xC3\xA9@x"), "x\r\n");
  sender.server("220 hi\r\n");
  EXPECT_EQ(sender.server("250 mx\r\n"), "");
  EXPECT_EQ(sender.outcome(0), "bounced 0 5.6.7");
  EXPECT_EQ(sender.outcome(1), "bounced 0 5.6.7");
}

struct SizeCase {
  const char* ehlo;
  std::size_t body_size;
  const char* expect;
};
class clientSessionSize : public ::testing::TestWithParam<SizeCase> {};
TEST_P(clientSessionSize, Declares) {
  Harness h(envelope({"a@x"}), std::string(GetParam().body_size, 'x'));
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server(GetParam().ehlo), GetParam().expect);
  if (std::string(GetParam().expect).empty()) {
    EXPECT_EQ(h.outcome(0), "bounced 0 5.3.4");
    EXPECT_NE(h.results()[0].reply.find("exceeds"), std::string::npos);
  }
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientSessionSize,
    ::testing::Values(
        SizeCase{"250-mx\r\n250 SIZE 100\r\n", 100, "MAIL FROM:<sender@ferry.test> SIZE=100\r\n"},
        SizeCase{"250-mx\r\n250 SIZE 100\r\n", 101, ""},
        SizeCase{"250-mx\r\n250 SIZE 0\r\n", 5000, "MAIL FROM:<sender@ferry.test> SIZE=5000\r\n"},
        SizeCase{"250-mx\r\n250 SIZE\r\n", 7, "MAIL FROM:<sender@ferry.test> SIZE=7\r\n"},
        SizeCase{"250 mx\r\n", 5000, "MAIL FROM:<sender@ferry.test>\r\n"}));

TEST(clientSession, DsnParametersOnlyWhenAdvertised) {
  Envelope e = envelope({"a@x", "b@x", "c@x"});
  e.ret = DsnRet::Hdrs;
  e.envid = "id+1=x";
  e.recipients[0].notify = kNotifySuccess | kNotifyFailure;
  e.recipients[0].orcpt = "rfc822;a+2Bx@orig";
  e.recipients[1].notify = kNotifyNever;
  e.recipients[2].notify = kNotifyDelay;
  Harness with(e, "x");
  with.server("220 hi\r\n");
  EXPECT_EQ(with.server("250-mx\r\n250 DSN\r\n"),
            "MAIL FROM:<sender@ferry.test> RET=HDRS ENVID=id+2B1+3Dx\r\n");
  EXPECT_EQ(with.server("250 ok\r\n"), "RCPT TO:<a@x> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bx@orig\r\n");
  EXPECT_EQ(with.server("250 ok\r\n"), "RCPT TO:<b@x> NOTIFY=NEVER\r\n");
  EXPECT_EQ(with.server("250 ok\r\n"), "RCPT TO:<c@x> NOTIFY=DELAY\r\n");
  Harness without(e, "x");
  without.server("220 hi\r\n");
  EXPECT_EQ(without.server("250 mx\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_EQ(without.server("250 ok\r\n"), "RCPT TO:<a@x>\r\n");
  without.server("250 ok\r\n250 ok\r\n");
  without.server("250 ok\r\n");
  without.server("354 go\r\n");
  without.server("250 ok\r\n");
  ASSERT_FALSE(without.dones.empty());
  EXPECT_FALSE(without.dones[0].remote_dsn);
}

TEST(clientSession, NullReversePath) {
  Harness h(envelope({"a@x"}, ""), "x");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250 mx\r\n"), "MAIL FROM:<>\r\n");
}

TEST(clientSession, ConnectionReuseWithRset) {
  Harness h(envelope({"a@x"}), "one\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok 1\r\n");
  ASSERT_TRUE(h.s.idle());
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Idle);
  const std::string body2 = "two\r\n";
  ASSERT_TRUE(h.s.start_next(envelope({"b@y", "c@y"}, "other@ferry.test"), body2, {1}));
  // RFC 2920 §3.1: with PIPELINING the RSET opens the next group, one round trip for all four.
  EXPECT_EQ(h.drain(), "RSET\r\nMAIL FROM:<other@ferry.test>\r\nRCPT TO:<c@y>\r\nDATA\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Command);
  EXPECT_EQ(h.server("250 2.0.0 ok\r\n"), "");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Mail);
  EXPECT_EQ(h.server("250 ok\r\n250 ok\r\n354 go\r\n"), "two\r\n.\r\n");
  h.server("250 ok 2\r\n");
  ASSERT_EQ(h.dones.size(), 2u);
  ASSERT_EQ(h.dones[1].results.size(), 1u);
  EXPECT_EQ(h.dones[1].results[0].index, 1u);
  EXPECT_EQ(h.dones[1].results[0].attempt.reply, "ok 2");
  EXPECT_EQ(h.s.messages_sent(), 2u);
  h.s.finish();
  EXPECT_EQ(h.drain(), "QUIT\r\n");
  EXPECT_EQ(h.server("221 bye\r\n"), "<CLOSE>");
}

TEST(clientSession, RsetRefusedFailsTheNextEnvelope) {
  Harness h(envelope({"a@x"}), "one\r\n");
  h.server("220 hi\r\n");
  h.server("250 mx\r\n");
  h.server("250 ok\r\n");
  h.server("250 ok\r\n");
  h.server("354 go\r\n");
  h.server("250 ok\r\n");
  ASSERT_TRUE(h.s.start_next(envelope({"b@x"}), "two"));
  h.drain();
  EXPECT_EQ(h.server("421 4.4.2 timeout\r\n"), "<CLOSE>");
  ASSERT_EQ(h.dones.size(), 2u);
  ASSERT_EQ(h.dones[1].results.size(), 1u);
  EXPECT_EQ(h.dones[1].results[0].attempt.outcome, AttemptOutcome::Transient);
  EXPECT_EQ(h.dones[1].results[0].attempt.code, 421);
  EXPECT_TRUE(h.dones[1].session_failure);
}

// One message delivered on a PIPELINING server, then the next one started on the connection:
// what the session wrote for it ("" when start_next refused).
std::string second_message_pipelined(Harness& h) {
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok\r\n");
  if (!h.s.start_next(envelope({"b@x"}), "two\r\n")) return "";
  return h.drain();
}

// A table of what the pipelined group of a reused connection gets back for its leading RSET:
// only a 2xx lets the transaction go on; anything else fails the envelope without data, as a
// lone RSET's refusal does.
TEST(clientSession, PipelinedRsetRefusedFailsTheNextEnvelope) {
  struct Case {
    const char* replies;
    bool delivered;
    int code;
  };
  for (const Case& c : {Case{"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", true, 250},
                        Case{"421 4.4.2 timeout\r\n", false, 421},
                        Case{"500 5.5.1 what\r\n250 ok\r\n250 ok\r\n354 go\r\n", false, 500}}) {
    SCOPED_TRACE(c.replies);
    Harness h(envelope({"a@x"}), "one\r\n");
    EXPECT_EQ(second_message_pipelined(h),
              "RSET\r\nMAIL FROM:<sender@ferry.test>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
    const std::string sent = h.server(c.replies);
    EXPECT_EQ(sent.find("two\r\n.\r\n") != std::string::npos, c.delivered) << sent;
    if (c.delivered) h.server("250 ok 2\r\n");
    ASSERT_EQ(h.dones.size(), 2u);
    ASSERT_EQ(h.dones[1].results.size(), 1u);
    EXPECT_EQ(h.dones[1].results[0].attempt.code, c.code);
    EXPECT_EQ(h.dones[1].session_failure, !c.delivered);
    if (!c.delivered) EXPECT_EQ(h.dones[1].results[0].attempt.outcome, AttemptOutcome::Transient);
  }
}

// A reused connection found dead at its pipelined RSET is lost before MAIL: the driver takes that
// phase as a pooled connection the remote had closed (a fresh connection, not a failed attempt).
TEST(clientSession, PipelinedRsetConnectionLostIsBeforeMail) {
  Harness h(envelope({"a@x"}), "one\r\n");
  second_message_pipelined(h);
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Command);
  h.s.connection_lost("connection reset by peer");
  EXPECT_EQ(h.drain(), "<CLOSE>");
  ASSERT_EQ(h.dones.size(), 2u);
  ASSERT_EQ(h.dones[1].results.size(), 1u);
  EXPECT_EQ(h.dones[1].results[0].attempt.outcome, AttemptOutcome::Transient);
  EXPECT_NE(h.dones[1].results[0].attempt.reply.find("waiting for command"), std::string::npos)
      << h.dones[1].results[0].attempt.reply;
  EXPECT_TRUE(h.dones[1].session_failure);
}

TEST(clientSession, StartNextOnlyWhenIdle) {
  Harness h(envelope({"a@x"}), "x");
  EXPECT_FALSE(h.s.start_next(envelope({"b@x"}), "y"));
  h.server("220 hi\r\n");
  EXPECT_FALSE(h.s.start_next(envelope({"b@x"}), "y"));
}

TEST(clientSession, ConnectionLostMidTransaction) {
  Harness h(envelope({"a@x", "b@x", "c@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  h.server("250 ok\r\n");
  h.server("550 5.1.1 no\r\n");  // a refused
  h.server("250 ok\r\n");        // b accepted, c being asked
  EXPECT_EQ(h.s.current_phase(), ClientPhase::Rcpt);
  h.s.connection_lost("connection reset by peer");
  EXPECT_EQ(h.drain(), "<CLOSE>");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_EQ(h.outcome(1), "deferred 0 4.4.2");
  EXPECT_EQ(h.outcome(2), "deferred 0 4.4.2");
  EXPECT_NE(h.results()[1].reply.find("rcpt: connection reset by peer"), std::string::npos);
  ASSERT_EQ(h.dones.size(), 2u);
  EXPECT_FALSE(h.dones[0].session_failure);
  EXPECT_TRUE(h.dones[1].session_failure);
  EXPECT_TRUE(h.s.closed());
  h.s.connection_lost();  // idempotent
  EXPECT_EQ(h.drain(), "");
}

TEST(clientSession, ConnectionLostAfterDataIsNotRetriedElsewhereAtOnce) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.s.current_phase(), ClientPhase::DataDone);
  h.s.connection_lost("timeout");
  h.drain();
  EXPECT_EQ(h.outcome(0), "deferred 0 4.4.2");
  EXPECT_FALSE(h.dones[0].session_failure);
}

TEST(clientSession, ConnectionLostWhileIdleOrQuitting) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250 mx\r\n");
  h.server("250 ok\r\n");
  h.server("250 ok\r\n");
  h.server("354 go\r\n");
  h.server("250 ok\r\n");
  const auto n = h.dones.size();
  h.s.connection_lost();
  EXPECT_EQ(h.drain(), "<CLOSE>");
  EXPECT_EQ(h.dones.size(), n);
}

TEST(clientSession, UnsolicitedReplyWhileIdleCloses) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250 mx\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok\r\n");
  EXPECT_EQ(h.server("421 4.4.2 idle timeout\r\n"), "<CLOSE>");
}

TEST(clientSession, Reply421MidTransaction) {
  Harness h(envelope({"a@x", "b@x", "c@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(h.server("250 ok\r\n550 5.1.1 no\r\n421 4.3.2 shutting down\r\n"), "<CLOSE>");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_EQ(h.outcome(1), "deferred 421 4.3.2");
  EXPECT_EQ(h.outcome(2), "deferred 421 4.3.2");
}

TEST(clientSession, MalformedReplyClosesWithTransient) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("HTTP/1.1 400 Bad Request\r\n"), "<CLOSE>");
  EXPECT_EQ(h.outcome(0), "deferred 0 4.5.0");
  EXPECT_NE(h.results()[0].reply.find("malformed"), std::string::npos);
}

TEST(clientSession, MaxRecipientsPerTransaction) {
  ClientOptions o = options();
  o.max_recipients = 2;
  Harness h(envelope({"a@x", "b@x", "c@x", "d@x", "e@x"}), "x\r\n", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250 PIPELINING\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
  int transactions = 1;
  for (;;) {
    const std::string next = h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n") + h.server("250 ok\r\n");
    if (next.empty()) break;
    ++transactions;
  }
  EXPECT_EQ(transactions, 3);
  EXPECT_EQ(h.results().size(), 5u);
  EXPECT_EQ(h.dones[0].carried, (std::vector<std::uint32_t>{2, 3, 4}));
}

TEST(clientSession, RecipientSubsetFromABatch) {
  Harness h(envelope({"a@x", "b@x", "c@x"}), "x\r\n", options(), {0, 2, 7});  // 7: out of range, dropped
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250 PIPELINING\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@x>\r\nRCPT TO:<c@x>\r\nDATA\r\n");
}

TEST(clientSession, FinishBeforeIdleAbandonsWork) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.s.finish();
  EXPECT_EQ(h.drain(), "QUIT\r\n");
  EXPECT_EQ(h.outcome(0), "deferred 0 4.4.2");
  EXPECT_EQ(h.server("221 bye\r\n"), "<CLOSE>");
}

TEST(clientSession, PhaseNames) {
  EXPECT_STREQ(to_string(ClientPhase::Greeting), "greeting");
  EXPECT_STREQ(to_string(ClientPhase::Rcpt), "rcpt");
  EXPECT_STREQ(to_string(ClientPhase::DataInit), "data_init");
  EXPECT_STREQ(to_string(ClientPhase::DataDone), "data_done");
}

// Fault sweep: the connection drops after every possible number of server replies; every
// recipient is still reported exactly once, and the session always ends closed.
TEST(clientSession, EveryRecipientReportedOnceWhateverTheDropPoint) {
  const std::vector<std::string> script = {"220 hi\r\n",       "250-mx\r\n250 PIPELINING\r\n",
                                           "250 ok\r\n",       "250 ok\r\n",
                                           "550 5.1.1 no\r\n", "452 4.5.3 too many\r\n",
                                           "354 go\r\n",       "250 ok\r\n",
                                           "250 ok\r\n",       "250 ok\r\n",
                                           "354 go\r\n",       "250 ok\r\n"};
  for (std::size_t cut = 0; cut <= script.size(); ++cut) {
    Harness h(envelope({"a@x", "b@x", "c@x"}), "x\r\n");
    for (std::size_t i = 0; i < cut; ++i) h.server(script[i]);
    h.s.connection_lost("cut");
    h.drain();
    EXPECT_TRUE(h.s.closed()) << cut;
    EXPECT_EQ(h.results().size(), 3u) << "cut after " << cut;
  }
}

// A reply without an enhanced code gets a derived x.0.0 status, marked as ours so a report does
// not quote it as the server's (RFC 3464 §2.3.6); the server's own code is not marked.
TEST(clientSession, DerivedStatusIsMarkedAsOurs) {
  Harness h(envelope({"a@x", "b@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  h.server("250 ok\r\n");
  h.server("550 no such user\r\n");
  h.server("550 5.1.1 unknown\r\n");
  h.server("250 ok\r\n");  // RSET
  const auto r = h.results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.at(0).status, "5.0.0");
  EXPECT_TRUE(r.at(0).status_derived);
  EXPECT_EQ(r.at(1).status, "5.1.1");
  EXPECT_FALSE(r.at(1).status_derived);
}

// RFC 6152 §3: an 8-bit body to a server without 8BITMIME is converted by the daemon's hook and
// the converted body is what is sent (and sized); a hook that cannot convert gives its status.
TEST(clientSession, EightBitBodyIsConvertedForASevenBitServer) {
  const std::string body = "Subject: x\r\n\r\ncaf\xC3\xA9\r\n";
  ClientOptions o = options();
  std::string seen;
  o.convert_8bit = [&](std::string_view b) {
    seen = std::string(b);
    return EightBitConversion{
        true, "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n", "", ""};
  };
  Harness h(envelope({"a@x"}), body, o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
            "MAIL FROM:<sender@ferry.test> SIZE=70\r\nRCPT TO:<a@x>\r\nDATA\r\n");
  EXPECT_EQ(seen, body);
  EXPECT_EQ(h.server("250 ok\r\n250 ok\r\n354 go\r\n"),
            "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n.\r\n");
  h.server("250 ok\r\n");
  EXPECT_EQ(h.outcome(0), "delivered 250 2.0.0");

  ClientOptions refuse = options();
  refuse.convert_8bit = [](std::string_view) {
    return EightBitConversion{false, "", "5.6.7", "8-bit header field"};
  };
  Harness no(envelope({"a@x"}), body, refuse);
  no.server("220 hi\r\n");
  EXPECT_EQ(no.server("250-mx\r\n250 PIPELINING\r\n"), "");
  EXPECT_EQ(no.outcome(0), "bounced 0 5.6.7");
  EXPECT_NE(no.results()[0].reply.find("cannot be converted: 8-bit header field"), std::string::npos);
}

// The converted body is what SIZE (RFC 1870 §6) is checked against: quoted-printable is longer.
TEST(clientSession, SizeLimitAppliesToTheConvertedBody) {
  const std::string body = "Subject: x\r\n\r\n\xC3\xA9\r\n";  // 20 octets
  ClientOptions o = options();
  o.convert_8bit = [](std::string_view) {
    return EightBitConversion{
        true, "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9\r\n", "", ""};
  };
  Harness h(envelope({"a@x"}), body, o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 SIZE 30\r\n"), "");
  EXPECT_EQ(h.outcome(0), "bounced 0 5.3.4");
}

// ---- transcript observer, stop_after_rcpt, all_recipients_or_none --------------------------

namespace {

// Records the observer's events as "C: line", "S: line", "= 250 EHLO", "<data N>".
struct Recorder {
  std::vector<std::string> events;
  TranscriptObserver observer() {
    return [this](const TranscriptEvent& e) {
      switch (e.kind) {
        case TranscriptKind::Sent:
          events.push_back("C: " + std::string(e.line));
          break;
        case TranscriptKind::Received:
          events.push_back("S: " + std::string(e.line));
          break;
        case TranscriptKind::Reply:
          events.push_back("= " + std::to_string(e.reply->code) + " " + std::string(e.command));
          break;
        case TranscriptKind::MessageData:
          events.push_back("<data " + std::to_string(e.octets) + ">");
          break;
      }
    };
  }
};

}  // namespace

TEST(clientSessionTranscript, EveryLineSentAndReceivedInWireOrder) {
  Recorder rec;
  ClientOptions o = options();
  o.transcript = rec.observer();
  o.use_pipelining = false;
  Harness h(envelope({"a@example.org"}), ".x\r\n", o);
  // Bytes split anywhere: a line is reported once it is complete, the reply after its lines.
  h.server("220 mx.example.org");
  h.server(" ESMTP\r\n250-mx.example.org\r");
  EXPECT_EQ(h.server("\n250-PIPELINING\r\n250 SIZE 100\r\n"), "MAIL FROM:<sender@ferry.test> SIZE=4\r\n");
  h.server("250 2.1.0 Ok\r\n");
  h.server("250 2.1.5 Ok\r\n");
  h.server("354 go\r\n");
  h.server("250 2.0.0 Ok: queued\r\n");
  h.s.finish();
  h.drain();
  h.server("221 bye\r\n");
  const std::vector<std::string> want{"S: 220 mx.example.org ESMTP",
                                      "= 220 greeting",
                                      "C: EHLO relay.ferry.test",
                                      "S: 250-mx.example.org",
                                      "S: 250-PIPELINING",
                                      "S: 250 SIZE 100",
                                      "= 250 EHLO",
                                      "C: MAIL FROM:<sender@ferry.test> SIZE=4",
                                      "S: 250 2.1.0 Ok",
                                      "= 250 MAIL FROM",
                                      "C: RCPT TO:<a@example.org>",
                                      "S: 250 2.1.5 Ok",
                                      "= 250 RCPT TO",
                                      "C: DATA",
                                      "S: 354 go",
                                      "= 354 DATA",
                                      "<data 4>",
                                      "S: 250 2.0.0 Ok: queued",
                                      "= 250 end of data",
                                      "C: QUIT",
                                      "S: 221 bye",
                                      "= 221 QUIT"};
  EXPECT_EQ(rec.events, want);
  EXPECT_EQ(h.outcome(0), "delivered 250 2.0.0");
}

TEST(clientSessionTranscript, PipelinedGroupIsReportedLineByLine) {
  Recorder rec;
  ClientOptions o = options();
  o.transcript = rec.observer();
  Harness h(envelope({"a@example.org", "b@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  rec.events.clear();
  h.server(kEhloFull);
  ASSERT_GE(rec.events.size(), 4u);
  const std::vector<std::string> tail(rec.events.end() - 4, rec.events.end());
  EXPECT_EQ(tail,
            (std::vector<std::string>{"C: MAIL FROM:<sender@ferry.test> SIZE=3", "C: RCPT TO:<a@example.org>",
                                      "C: RCPT TO:<b@example.org>", "C: DATA"}));
  rec.events.clear();
  h.server("250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n");
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{"S: 250 ok", "= 250 MAIL FROM", "S: 250 ok", "= 250 RCPT TO",
                                      "S: 550 no", "= 550 RCPT TO", "S: 354 go", "= 354 DATA", "<data 3>"}));
}

TEST(clientSessionTranscript, CredentialsAreHidden) {
  for (const char* mechs : {"PLAIN", "LOGIN"}) {
    Recorder rec;
    ClientOptions o = options();
    o.transcript = rec.observer();
    o.auth_user = "user";
    o.auth_password = "secret";
    o.auth_over_plaintext = true;
    Harness h(envelope({"a@example.org"}), "x\r\n", o);
    h.server("220 hi\r\n");
    const std::string sent = h.server(std::string("250-mx\r\n250 AUTH ") + mechs + "\r\n");
    if (std::string(mechs) == "PLAIN") {
      EXPECT_NE(sent.find("AUTH PLAIN AHVzZXIAc2VjcmV0"), std::string::npos) << sent;
      h.server("334 \r\n");  // a server that ignores the initial response
    } else {
      EXPECT_EQ(sent, "AUTH LOGIN\r\n");
      EXPECT_EQ(h.server("334 VXNlcm5hbWU6\r\n"), "dXNlcg==\r\n");
      EXPECT_EQ(h.server("334 UGFzc3dvcmQ6\r\n"), "c2VjcmV0\r\n");
    }
    EXPECT_EQ(h.server("235 2.7.0 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\n");
    std::string all;
    for (const auto& e : rec.events) all += e + "\n";
    EXPECT_EQ(all.find("AHVzZXIAc2VjcmV0"), std::string::npos) << all;
    EXPECT_EQ(all.find("dXNlcg=="), std::string::npos) << all;
    EXPECT_EQ(all.find("c2VjcmV0"), std::string::npos) << all;
    EXPECT_NE(
        all.find(std::string(mechs) == "PLAIN" ? "C: AUTH PLAIN <credentials hidden>\n" : "C: AUTH LOGIN\n"),
        std::string::npos)
        << all;
    EXPECT_NE(all.find("<credentials hidden>"), std::string::npos) << all;
    EXPECT_NE(all.find("= 235 AUTH"), std::string::npos) << all;
  }
}

TEST(clientSessionTranscript, WithoutObserverTheSameBytesGoOut) {
  // The observer changes nothing on the wire.
  auto run = [](bool observed) {
    Recorder rec;
    ClientOptions o = options();
    if (observed) o.transcript = rec.observer();
    Harness h(envelope({"a@example.org", "b@example.org"}), "x\r\n", o);
    std::string out = h.server("220 hi\r\n") + h.server(kEhloFull) +
                      h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n") + h.server("250 ok\r\n");
    return out + h.outcome(0) + h.outcome(1);
  };
  EXPECT_EQ(run(true), run(false));
}

TEST(clientSessionStopAfterRcpt, LockStepStopsBeforeDataAndReportsTheRcptReply) {
  ClientOptions o = options();
  o.stop_after_rcpt = true;
  o.use_pipelining = false;
  Harness h(envelope({"a@example.org"}), "", o);
  h.server("220 hi\r\n");
  // No message is sent, so no SIZE is announced.
  EXPECT_EQ(h.server(kEhloFull), "MAIL FROM:<sender@ferry.test>\r\n");
  EXPECT_EQ(h.server("250 2.1.0 Ok\r\n"), "RCPT TO:<a@example.org>\r\n");
  EXPECT_EQ(h.server("250 2.1.5 Ok\r\n"), "");
  EXPECT_EQ(h.outcome(0), "delivered 250 2.1.5");
  EXPECT_EQ(h.results()[0].reply, "Ok");
  EXPECT_TRUE(h.s.idle());
  EXPECT_EQ(h.s.messages_sent(), 0u);
  h.s.finish();
  EXPECT_EQ(h.drain(), "QUIT\r\n");
  EXPECT_EQ(h.server("221 bye\r\n"), "<CLOSE>");
}

TEST(clientSessionStopAfterRcpt, RefusedRecipientEndsWithoutRset) {
  ClientOptions o = options();
  o.stop_after_rcpt = true;
  Harness h(envelope({"a@example.org"}), "", o);
  h.server("220 hi\r\n");
  h.server(kEhloPlain);
  h.server("250 ok\r\n");
  EXPECT_EQ(h.server("550 5.1.1 unknown\r\n"), "");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.1.1");
  EXPECT_TRUE(h.s.idle());
}

TEST(clientSessionStopAfterRcpt, PipelinedGroupHasNoData) {
  ClientOptions o = options();
  o.stop_after_rcpt = true;
  Harness h(envelope({"a@example.org", "b@example.org"}), "", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server(kEhloFull),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n");
  EXPECT_EQ(h.server("250 ok\r\n250 2.1.5 ok\r\n"), "");
  EXPECT_TRUE(h.dones.empty());
  EXPECT_EQ(h.server("451 4.7.1 greylisted\r\n"), "");
  EXPECT_EQ(h.outcome(0), "delivered 250 2.1.5");
  EXPECT_EQ(h.outcome(1), "deferred 451 4.7.1");
  EXPECT_TRUE(h.s.idle());
  // Reusing the connection discards the open transaction first (pipelined: RSET opens the group).
  EXPECT_TRUE(h.s.start_next(envelope({"c@example.org"}), ""));
  EXPECT_EQ(h.drain().rfind("RSET\r\nMAIL FROM:", 0), 0u);
}

TEST(clientSessionStopAfterRcpt, RefusedMailDecidesForEveryone) {
  ClientOptions o = options();
  o.stop_after_rcpt = true;
  Harness h(envelope({"a@example.org", "b@example.org"}), "", o);
  h.server("220 hi\r\n");
  h.server(kEhloFull);
  h.server("550 5.7.1 sender refused\r\n503 5.5.1 no MAIL\r\n503 5.5.1 no MAIL\r\n");
  EXPECT_EQ(h.outcome(0), "bounced 550 5.7.1");
  EXPECT_EQ(h.outcome(1), "bounced 550 5.7.1");
  EXPECT_TRUE(h.s.idle());
}

TEST(clientSessionAllOrNone, ARefusedRecipientStopsTheTransactionBeforeData) {
  ClientOptions o = options();
  o.all_recipients_or_none = true;
  Harness h(envelope({"a@example.org", "b@example.org", "c@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  // Lock-step even though the server offers PIPELINING.
  EXPECT_EQ(h.server(kEhloFull), "MAIL FROM:<sender@ferry.test> SIZE=3\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "RCPT TO:<a@example.org>\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "RCPT TO:<b@example.org>\r\n");
  EXPECT_EQ(h.server("554 5.7.1 Relay access denied\r\n"), "");
  EXPECT_EQ(h.outcome(1), "bounced 554 5.7.1");
  EXPECT_EQ(h.outcome(0), "deferred 0 4.0.0");
  EXPECT_EQ(h.outcome(2), "deferred 0 4.0.0");
  EXPECT_EQ(h.results()[0].reply,
            "not sent: <b@example.org> was refused, and this message goes to all its recipients or none");
  EXPECT_TRUE(h.s.idle());
  h.s.finish();
  EXPECT_EQ(h.drain(), "QUIT\r\n");
}

TEST(clientSessionAllOrNone, AllAcceptedGoesThroughData) {
  ClientOptions o = options();
  o.all_recipients_or_none = true;
  Harness h(envelope({"a@example.org", "b@example.org"}), "x\r\n", o);
  h.server("220 hi\r\n");
  h.server(kEhloFull);
  h.server("250 ok\r\n");
  h.server("250 ok\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "DATA\r\n");
  EXPECT_EQ(h.server("354 go\r\n"), "x\r\n.\r\n");
  h.server("250 2.0.0 queued\r\n");
  EXPECT_EQ(h.outcome(0), "delivered 250 2.0.0");
  EXPECT_EQ(h.outcome(1), "delivered 250 2.0.0");
}

// ---- REQUIRETLS (RFC 8689) -----------------------------------------------------------------

namespace {

Envelope requiretls_envelope() {
  Envelope e = envelope({"a@example.org", "b@example.org"});
  e.require_tls = true;
  return e;
}

// Greeting, EHLO with STARTTLS, the handshake: returns what the client sent after the EHLO that
// followed TLS.
std::string through_tls(Harness& h, std::string_view ehlo_after_tls) {
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"), "STARTTLS\r\n");
  EXPECT_EQ(h.server("220 go\r\n"), "<STARTTLS>");
  h.s.tls_started();
  EXPECT_EQ(h.drain(), ehlo());
  return h.server(ehlo_after_tls);
}

}  // namespace

TEST(clientSession, RequireTlsOverValidatedTlsPassesTheParameter) {
  ClientOptions o = options();
  o.tls = ClientTlsPolicy::Verify;
  o.tls_validated = true;
  Harness h(requiretls_envelope(), "x\r\n", o);
  EXPECT_EQ(through_tls(h, "250-mx\r\n250-PIPELINING\r\n250 REQUIRETLS\r\n"),
            "MAIL FROM:<sender@ferry.test> REQUIRETLS\r\nRCPT TO:<a@example.org>\r\nRCPT "
            "TO:<b@example.org>\r\nDATA\r\n");
}

// Each condition of RFC 8689 §4.2.1 that fails: the recipients fail for good with 5.7.30 and a
// text naming it; nothing is sent for the message.
TEST(clientSession, RequireTlsFailsWith5730NamingTheCondition) {
  {  // the server does not advertise REQUIRETLS
    ClientOptions o = options();
    o.tls = ClientTlsPolicy::Verify;
    o.tls_validated = true;
    Harness h(requiretls_envelope(), "x\r\n", o);
    EXPECT_EQ(through_tls(h, "250-mx\r\n250 PIPELINING\r\n"), "");
    EXPECT_EQ(h.outcome(0), "bounced 0 5.7.30");
    EXPECT_EQ(h.outcome(1), "bounced 0 5.7.30");
    EXPECT_NE(h.results()[0].reply.find("does not advertise REQUIRETLS"), std::string::npos);
    ASSERT_FALSE(h.dones.empty());
    EXPECT_FALSE(h.dones.back().session_failure);
    EXPECT_TRUE(h.s.idle());  // the connection may still carry other mail
  }
  {  // TLS, but not validated (opportunistic)
    Harness h(requiretls_envelope(), "x\r\n");
    EXPECT_EQ(through_tls(h, "250-mx\r\n250 REQUIRETLS\r\n"), "");
    EXPECT_EQ(h.outcome(0), "bounced 0 5.7.30");
    EXPECT_NE(h.results()[0].reply.find("not validated"), std::string::npos);
  }
  {  // no TLS at all: STARTTLS not offered
    ClientOptions o = options();
    o.tls_validated = true;
    Harness h(requiretls_envelope(), "x\r\n", o);
    h.server("220 hi\r\n");
    EXPECT_EQ(h.server("250-mx\r\n250 REQUIRETLS\r\n"), "");
    EXPECT_EQ(h.outcome(1), "bounced 0 5.7.30");
    EXPECT_NE(h.results()[1].reply.find("not encrypted"), std::string::npos);
  }
}

// A destination whose published policy (DANE, MTA-STS enforce) demands TLS and whose server does
// not offer STARTTLS: deferred 4.7.5 (RFC 7672 §2.2), where a route's own requirement says 4.7.4.
TEST(clientSession, StartTlsMissingUnderAPublishedPolicyIs475) {
  for (const bool published : {false, true}) {
    ClientOptions o = options();
    o.tls = ClientTlsPolicy::Required;
    o.policy_requires_tls = published;
    Harness h(envelope({"a@example.org"}), "x\r\n", o);
    h.server("220 hi\r\n");
    h.server("250-mx\r\n250 PIPELINING\r\n");
    EXPECT_EQ(h.outcome(0), published ? "deferred 0 4.7.5" : "deferred 0 4.7.4");
  }
}

TEST(clientSession, WithoutRequireTlsTheParameterIsNeverSent) {
  ClientOptions o = options();
  o.tls_validated = true;
  Harness h(envelope({"a@example.org"}), "x\r\n", o);
  EXPECT_EQ(through_tls(h, "250-mx\r\n250-PIPELINING\r\n250 REQUIRETLS\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@example.org>\r\nDATA\r\n");
}

// ---- LIMITS (RFC 9422) ---------------------------------------------------------------------

TEST(clientSession, RcptmaxSplitsRecipientsOverTransactions) {
  Harness h(envelope({"a@x", "b@x", "c@x", "d@x", "e@x"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 LIMITS RCPTMAX=2 MAILMAX=10\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
  h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.server("250 ok 1\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<c@x>\r\nRCPT TO:<d@x>\r\nDATA\r\n");
  ASSERT_EQ(h.dones.size(), 1u);
  EXPECT_EQ(h.dones[0].carried, (std::vector<std::uint32_t>{2, 3, 4}));
  h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.server("250 ok 2\r\n"), "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<e@x>\r\nDATA\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok 3\r\n");
  auto all = h.results();
  ASSERT_EQ(all.size(), 5u);
  for (const auto& [i, a] : all) EXPECT_EQ(a.outcome, AttemptOutcome::Delivered) << i;
  EXPECT_EQ(h.s.messages_sent(), 3u);
  EXPECT_FALSE(h.s.mail_limit_reached());
}

TEST(clientSession, OurOwnLimitAndRcptmaxTheSmallerWins) {
  ClientOptions o = options();
  o.max_recipients = 1;
  Harness h(envelope({"a@x", "b@x"}), "x\r\n", o);
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 LIMITS RCPTMAX=5\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@x>\r\nDATA\r\n");
}

TEST(clientSession, RcptdomainmaxLimitsDistinctDomainsPerTransaction) {
  Harness h(envelope({"a@one", "b@two", "c@ONE", "d@three"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 LIMITS RCPTDOMAINMAX=1\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@one>\r\nRCPT TO:<c@ONE>\r\nDATA\r\n");
  h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<b@two>\r\nDATA\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<d@three>\r\nDATA\r\n");
}

// MAILMAX reached with recipients still waiting: they are handed back for a new connection
// (transient placeholders marked `reconnect`) and this connection ends with QUIT.
TEST(clientSession, MailmaxHandsTheRestToANewConnection) {
  Harness h(envelope({"a@x", "b@x", "c@x"}), "x\r\n");
  h.server("220 hi\r\n");
  EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 LIMITS MAILMAX=1 RCPTMAX=1\r\n"),
            "MAIL FROM:<sender@ferry.test>\r\nRCPT TO:<a@x>\r\nDATA\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(h.server("250 ok\r\n"), "QUIT\r\n");
  ASSERT_EQ(h.dones.size(), 2u);  // checked before any element is read
  EXPECT_FALSE(h.dones[0].reconnect);
  EXPECT_TRUE(h.dones[0].carried.empty());
  EXPECT_EQ(h.outcome(0), "delivered 250 2.0.0");
  EXPECT_TRUE(h.dones[1].reconnect);
  EXPECT_TRUE(h.dones[1].session_failure);
  ASSERT_EQ(h.dones[1].results.size(), 2u);
  EXPECT_EQ(h.outcome(1), "deferred 0 4.5.3");
  EXPECT_TRUE(h.s.mail_limit_reached());
}

TEST(clientSession, MailmaxIsReachedAfterThatManyTransactions) {
  Harness h(envelope({"a@x"}), "x\r\n");
  h.server("220 hi\r\n");
  h.server("250-mx\r\n250-PIPELINING\r\n250 LIMITS MAILMAX=2\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok\r\n");
  EXPECT_FALSE(h.s.mail_limit_reached());
  const std::string body2 = "y\r\n";
  ASSERT_TRUE(h.s.start_next(envelope({"b@x"}), body2));
  h.server("250 ok\r\n");
  h.server("250 ok\r\n250 ok\r\n354 go\r\n");
  h.server("250 ok\r\n");
  EXPECT_TRUE(h.s.mail_limit_reached());
}
