// ServerSession API behaviour the daemon relies on (beyond the transcripts): ordering, waiting,
// buffering before start(), implicit TLS, the missing-hook defaults and the one-copy body.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mta/smtp/ServerSession.hpp"

using namespace ferry;
using namespace ferry::smtp;

namespace {

std::string replies(ServerSession& s, std::vector<SessionAction>* others = nullptr) {
  std::string out;
  while (s.has_action()) {
    SessionAction a = s.next_action();
    if (auto* r = std::get_if<SendReply>(&a))
      out += r->text;
    else if (others)
      others->push_back(std::move(a));
  }
  return out;
}

SessionHooks accept_all() {
  SessionHooks h;
  h.next_queue_id = [] { return ferry::QueueId{1}; };
  h.now = [] { return WallTime{1704067200000, 0}; };
  h.decide_recipient = [](std::string_view, bool) { return RecipientDecision::accept(); };
  return h;
}

TEST(smtp_ServerSession, InputBeforeStartIsAnsweredAfterTheGreeting) {
  ServerSession s({}, accept_all());
  s.feed("NOOP\r\n");
  EXPECT_FALSE(s.has_action());
  s.start();
  EXPECT_EQ(replies(s), "220 localhost ESMTP Ferry\r\n250 2.0.0 Ok\r\n");
}

TEST(smtp_ServerSession, PipelinedRepliesAreCoalescedInOrder) {
  ServerSession s({}, accept_all());
  s.start();
  replies(s);
  s.feed("NOOP\r\nRSET\r\nNOOP\r\n");
  auto actions = s.take_actions();
  ASSERT_EQ(actions.size(), 1u);  // one write for the whole group
  EXPECT_EQ(std::get<SendReply>(actions[0]).text, "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
}

TEST(smtp_ServerSession, WaitsForCommitAndKeepsTheBodyInOneBuffer) {
  ServerSession s({}, accept_all());
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
  replies(s);
  s.feed("hello\r\n.\r\nNOOP\r\n");
  std::vector<SessionAction> others;
  EXPECT_EQ(replies(s, &others), "");
  ASSERT_EQ(others.size(), 1u);
  auto& commit = std::get<CommitMessage>(others[0]);
  EXPECT_EQ(commit.queue_id.str(), "0000000000000001");
  EXPECT_TRUE(s.waiting());
  EXPECT_NE(commit.body.find("id 0000000000000001"), std::string::npos);
  EXPECT_EQ(commit.body.substr(commit.body.size() - 7), "hello\r\n");
  EXPECT_EQ(commit.envelope.size, commit.body.size());
  s.feed("QUIT\r\n");  // still buffered
  EXPECT_EQ(replies(s), "");
  s.commit_result(Result<void>());
  EXPECT_EQ(replies(s, &others),
            "250 2.0.0 Ok: queued as 0000000000000001\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.messages_committed(), 1u);
}

namespace {

SessionPolicy signing(bool may_relay) {
  SessionPolicy p;
  p.sign_messages = true;
  p.client_may_relay = may_relay;
  return p;
}

// Ends a message on a fresh session; returns the one non-reply action it produced.
SessionAction end_message(ServerSession& s) {
  s.start();
  replies(s);
  s.feed("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  replies(s);
  s.feed("hello\r\n.\r\nNOOP\r\n");
  std::vector<SessionAction> others;
  EXPECT_EQ(replies(s, &others), "");
  EXPECT_EQ(others.size(), 1u);
  return others.empty() ? SessionAction{Close{}} : std::move(others.front());
}

}  // namespace

// Signing is its own step before the commit: a failure is answered as a signing failure and
// nothing is committed.
TEST(smtp_ServerSession, SigningFailureIs451_470AndNoCommit) {
  ServerSession s(signing(true), accept_all());
  auto action = end_message(s);
  ASSERT_TRUE(std::holds_alternative<SignMessage>(action));
  EXPECT_TRUE(s.waiting());
  s.commit_result(Result<void>());  // no commit is outstanding: says nothing
  EXPECT_EQ(replies(s), "");
  s.sign_result(make_error(ErrorKind::Security, "dkim"));
  std::vector<SessionAction> others;
  EXPECT_EQ(replies(s, &others),
            "451 4.7.0 Error: message could not be signed, try again later\r\n250 2.0.0 Ok\r\n");
  EXPECT_TRUE(others.empty());
  EXPECT_EQ(s.messages_committed(), 0u);
}

TEST(smtp_ServerSession, NoMemoryForSigningIs451_431) {
  ServerSession s(signing(true), accept_all());
  ASSERT_TRUE(std::holds_alternative<SignMessage>(end_message(s)));
  s.sign_result(make_error(ErrorKind::Busy, "no memory"));
  EXPECT_EQ(replies(s).substr(0, 10), "451 4.3.1 ");
  EXPECT_EQ(s.messages_committed(), 0u);
}

// The signed body (signature fields above our Received) is what the commit carries, and its
// size is the envelope's.
TEST(smtp_ServerSession, SignedBodyIsCommitted) {
  ServerSession s(signing(true), accept_all());
  auto action = end_message(s);
  ASSERT_TRUE(std::holds_alternative<SignMessage>(action));
  auto& sign = std::get<SignMessage>(action);
  EXPECT_EQ(sign.queue_id.str(), "0000000000000001");
  EXPECT_TRUE(sign.body.starts_with("Received: "));
  s.sign_result("DKIM-Signature: v=1\r\n" + sign.body);
  std::vector<SessionAction> others;
  EXPECT_EQ(replies(s, &others), "");
  ASSERT_EQ(others.size(), 1u);
  auto& commit = std::get<CommitMessage>(others[0]);
  EXPECT_TRUE(commit.body.starts_with("DKIM-Signature: v=1\r\nReceived: "));
  EXPECT_EQ(commit.envelope.size, commit.body.size());
  s.commit_result(Result<void>());
  EXPECT_EQ(replies(s), "250 2.0.0 Ok: queued as 0000000000000001\r\n250 2.0.0 Ok\r\n");
}

// Mail from a client that may not relay and has not authenticated is not signed.
TEST(smtp_ServerSession, UntrustedClientIsNotSigned) {
  ServerSession s(signing(false), accept_all());
  EXPECT_TRUE(std::holds_alternative<CommitMessage>(end_message(s)));
  s.sign_result(std::string("x"));  // no signing outstanding: ignored
  EXPECT_EQ(replies(s), "");
  EXPECT_TRUE(s.waiting());
}

// commit_result reports commits only: an error of any other kind is a write error.
TEST(smtp_ServerSession, SecurityErrorAtCommitIsAWriteError) {
  ServerSession s({}, accept_all());
  ASSERT_TRUE(std::holds_alternative<CommitMessage>(end_message(s)));
  s.commit_result(make_error(ErrorKind::Security, "x"));
  EXPECT_EQ(replies(s), "451 4.3.0 Error: queue file write error\r\n250 2.0.0 Ok\r\n");
}

TEST(smtp_ServerSession, CommitResultWithoutCommitSaysNothing) {
  ServerSession s({}, accept_all());
  s.start();
  replies(s);
  s.commit_result(Result<void>());
  s.auth_result(true);
  s.tls_started("TLSv1.3", "X");
  EXPECT_FALSE(s.has_action());
  EXPECT_FALSE(s.authenticated());
}

TEST(smtp_ServerSession, MissingRecipientHookNeverRelays) {
  SessionHooks h = accept_all();
  h.decide_recipient = nullptr;
  ServerSession s({}, h);
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  const std::string r = replies(s);
  EXPECT_NE(r.find("554 5.7.1 <c@d.example>: Relay access denied"), std::string::npos) << r;
}

TEST(smtp_ServerSession, ImplicitTlsBeforeStart) {
  SessionPolicy p;
  p.implicit_tls = true;
  p.tls_available = true;
  p.auth_available = true;
  ServerSession s(p, accept_all());
  s.tls_started("TLSv1.3", "TLS_AES_128_GCM_SHA256");  // the daemon's handshake, then start()
  s.start();
  s.feed("EHLO c\r\n");
  const std::string r = replies(s);
  EXPECT_EQ(r.find("STARTTLS"), std::string::npos);
  EXPECT_NE(r.find("AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_TRUE(s.tls_active());
}

TEST(smtp_ServerSession, AuthFailuresAreCountedForTheDaemonsDelay) {
  SessionPolicy p;
  p.auth_available = true;
  p.allow_plaintext_auth = true;
  ServerSession s(p, accept_all());
  s.start();
  s.feed("EHLO c\r\nAUTH PLAIN AGEAYg==\r\n");
  std::vector<SessionAction> others;
  replies(s, &others);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(std::get<VerifyAuth>(others[0]).user, "a");
  EXPECT_EQ(std::get<VerifyAuth>(others[0]).password, "b");
  s.auth_result(false);
  EXPECT_EQ(s.auth_failures(), 1u);
  EXPECT_EQ(s.error_count(), 1u);
  EXPECT_EQ(replies(s), "535 5.7.8 Error: authentication failed\r\n");
}

TEST(smtp_ServerSession, LargeBodyInManySmallFeeds) {
  ServerSession s({}, accept_all());
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
  replies(s);
  const std::string line(76, 'q');
  std::string expect;
  for (int i = 0; i < 20000; ++i) {
    s.feed(line);
    s.feed("\r\n");
    expect += line + "\r\n";
  }
  s.feed(".\r\n");
  std::vector<SessionAction> others;
  replies(s, &others);
  ASSERT_EQ(others.size(), 1u);
  const std::string& body = std::get<CommitMessage>(others[0]).body;
  ASSERT_GT(body.size(), expect.size());
  EXPECT_EQ(body.substr(body.size() - expect.size()), expect);
}

}  // namespace

namespace {

// The commit of one message from `from` to `rcpts`, with `hooks` deciding the recipients.
CommitMessage commit_of(const SessionPolicy& policy, SessionHooks hooks, const std::string& from,
                        const std::vector<std::string>& rcpts, const std::string& message) {
  ServerSession s(policy, std::move(hooks));
  s.start();
  std::string cmds = "EHLO c\r\nMAIL FROM:<" + from + ">\r\n";
  for (const auto& r : rcpts) cmds += "RCPT TO:<" + r + ">\r\n";
  s.feed(cmds + "DATA\r\n");
  replies(s);
  s.feed(message + ".\r\n");
  std::vector<SessionAction> others;
  replies(s, &others);
  EXPECT_EQ(others.size(), 1u);
  if (others.empty() || !std::holds_alternative<CommitMessage>(others[0])) return {};
  return std::get<CommitMessage>(std::move(others[0]));
}

}  // namespace

// Recipients rewritten to the admin: the ORCPT keeps each one (RFC 3461 §4.2) and the message
// gets one X-Original-To: per address, after this hop's Received and before the client's header.
TEST(smtp_ServerSession, AdminRewriteWritesXOriginalToAndOrcpt) {
  SessionHooks h = accept_all();
  h.decide_recipient = [](std::string_view address, bool) {
    if (address == "elsewhere@example.org") return RecipientDecision::accept();
    return RecipientDecision::rewrite_to_admin("ops@example.com");
  };
  const CommitMessage c = commit_of({}, h, "a@b.example", {"root@vm", "cron@vm", "elsewhere@example.org"},
                                    "Subject: s\r\n\r\nb\r\n");
  ASSERT_EQ(c.envelope.recipients.size(), 3u);
  EXPECT_EQ(c.envelope.recipients[0].address, "ops@example.com");
  EXPECT_EQ(c.envelope.recipients[0].orcpt, "rfc822;root@vm");
  EXPECT_EQ(c.envelope.recipients[1].orcpt, "rfc822;cron@vm");
  EXPECT_EQ(c.envelope.recipients[2].orcpt, "");
  const auto x = c.body.find("X-Original-To: root@vm\r\nX-Original-To: cron@vm\r\nSubject: s\r\n");
  EXPECT_NE(x, std::string::npos) << c.body;
  EXPECT_EQ(c.body.rfind("Received: ", 0), 0u) << "the trace field stays first (RFC 5321 §4.4)";
  EXPECT_EQ(c.envelope.size, c.body.size());
  // A plain alias is not marked.
  h.decide_recipient = [](std::string_view, bool) { return RecipientDecision::rewrite("team@example.net"); };
  EXPECT_EQ(commit_of({}, h, "a@b.example", {"sales@vm"}, "S: s\r\n\r\nb\r\n").body.find("X-Original-To"),
            std::string::npos);
}

// Local submission masquerades the envelope sender and the From: field; other sessions do not.
TEST(smtp_ServerSession, MasqueradeRewritesSenderAndFromOnlyWhenActive) {
  SessionPolicy local;
  local.masquerade = MasqueradeRule{"example.com", {"vm", "localhost"}};
  const std::string msg = "From: Cron <root@vm>\r\nTo: x@example.org\r\n\r\nroot@vm\r\n";
  const CommitMessage c = commit_of(local, accept_all(), "root@vm", {"x@example.org"}, msg);
  EXPECT_EQ(c.envelope.reverse_path, "root@example.com");
  EXPECT_NE(c.body.find("From: Cron <root@example.com>\r\nTo: x@example.org\r\n\r\nroot@vm\r\n"),
            std::string::npos)
      << c.body;
  EXPECT_EQ(c.envelope.size, c.body.size());
  const CommitMessage other = commit_of({}, accept_all(), "root@vm", {"x@example.org"}, msg);
  EXPECT_EQ(other.envelope.reverse_path, "root@vm");
  EXPECT_NE(other.body.find("From: Cron <root@vm>"), std::string::npos);
}
