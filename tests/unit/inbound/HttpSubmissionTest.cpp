// HTTP submission's acceptance step: the envelope and trace, relay rules and the refusal hook
// (the suppression list's shape), 422 when every recipient is refused, hop and size limits, and
// the JSON replies.
#include <gtest/gtest.h>

#include "mta/inbound/HttpReply.hpp"
#include "mta/inbound/HttpSubmission.hpp"
#include "mta/policy/SmtpPolicy.hpp"

namespace ferry::inbound {
namespace {

struct Fixture {
  config::Config cfg;
  std::string hostname = "mx.example.com";
  smtp::RelayPolicy relay{policy::relay_rules(cfg, hostname)};
  RecipientRefusal refusal;

  Result<HttpSubmission, HttpProblem> make(const submit::SubmitRequest& r) {
    HttpSubmissionInputs in{cfg,
                            hostname,
                            relay,
                            refusal,
                            QueueId{0xAB},
                            HttpClient{"192.0.2.7", "line 2"},
                            smtp::WallTime{1767225600000, 0}};
    return make_http_submission(in, r);
  }
};

submit::SubmitRequest request(std::vector<std::string> to) {
  submit::SubmitRequest r;
  r.from = "app@example.com";
  r.to = std::move(to);
  r.subject = "Hi";
  r.text = "Hello";
  return r;
}

TEST(HttpSubmission, EnvelopeTraceAndRenderedMessage) {
  Fixture f;
  auto s = f.make(request({"bob@example.net", "carol@example.org"}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->envelope.reverse_path, "app@example.com");
  ASSERT_EQ(s->envelope.recipients.size(), 2u);
  EXPECT_EQ(s->envelope.recipients[1].address, "carol@example.org");
  EXPECT_EQ(s->envelope.client.address, "192.0.2.7");
  EXPECT_EQ(s->envelope.client.protocol, "HTTP");
  EXPECT_EQ(s->envelope.client.auth_user, "token line 2");
  EXPECT_EQ(s->message_id, "<00000000000000AB@mx.example.com>");
  EXPECT_TRUE(
      s->body.starts_with("Received: from [192.0.2.7] ([192.0.2.7])\r\n"
                          "\tby mx.example.com (Ferry) with HTTP (token line 2)\r\n"
                          "\tid 00000000000000AB; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                          "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"))
      << s->body;
  EXPECT_TRUE(s->refused.empty());
}

TEST(HttpSubmission, Ipv6ClientIsAnAddressLiteral) {
  Fixture f;
  HttpSubmissionInputs in{f.cfg,
                          f.hostname,
                          f.relay,
                          f.refusal,
                          QueueId{1},
                          HttpClient{"2001:db8::7", "line 1"},
                          smtp::WallTime{1767225600000, 0}};
  auto s = make_http_submission(in, request({"bob@example.net"}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->body.starts_with("Received: from [IPv6:2001:db8::7] ([IPv6:2001:db8::7])\r\n")) << s->body;
}

TEST(HttpSubmission, RefusalHookRefusesSomeRecipients) {
  Fixture f;
  f.refusal = [](std::string_view address) -> std::optional<std::string> {
    if (address == "gone@example.net")
      return "550 5.1.1 <gone@example.net>: suppressed after a hard bounce on 2026-01-01 (unknown_user)";
    return std::nullopt;
  };
  auto s = f.make(request({"bob@example.net", "gone@example.net"}));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->envelope.recipients.size(), 1u);
  EXPECT_EQ(s->envelope.recipients[0].address, "bob@example.net");
  ASSERT_EQ(s->refused.size(), 1u);
  EXPECT_EQ(s->refused[0].address, "gone@example.net");
  const auto reply = reply_accepted(QueueId{0xAB}, s->message_id, {"bob@example.net"}, s->refused);
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body,
            "{\"id\":\"00000000000000AB\",\"message_id\":\"<00000000000000AB@mx.example.com>\",\"accepted\":"
            "[\"bob@example.net\"],\"refused\":[{\"address\":\"gone@example.net\",\"reply\":\"550 5.1.1 "
            "<gone@example.net>: suppressed after a hard bounce on 2026-01-01 (unknown_user)\"}]}\n");
}

TEST(HttpSubmission, EveryRecipientRefusedIs422WithReasons) {
  Fixture f;
  f.refusal = [](std::string_view) -> std::optional<std::string> { return "550 5.1.1 suppressed"; };
  auto s = f.make(request({"a@example.net", "b@example.net"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 422);
  ASSERT_EQ(s.error().refused.size(), 2u);
  const auto reply = reply_problem(s.error());
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(reply.body,
            "{\"error\":\"every recipient was "
            "refused\",\"field\":\"to\",\"refused\":[{\"address\":\"a@example.net\","
            "\"reply\":\"550 5.1.1 suppressed\"},{\"address\":\"b@example.net\",\"reply\":\"550 5.1.1 "
            "suppressed\"}]}\n");
}

TEST(HttpSubmission, LocalRecipientsGoThroughTheRelayRules) {
  Fixture f;
  f.cfg.aliases["postmaster"] = "admin@example.org";
  f.relay = smtp::RelayPolicy(policy::relay_rules(f.cfg, f.hostname));
  auto s = f.make(request({"nobody@mx.example.com", "postmaster@mx.example.com", "bob@example.net"}));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->refused.size(), 1u);
  EXPECT_EQ(s->refused[0].address, "nobody@mx.example.com");
  EXPECT_TRUE(s->refused[0].reply.starts_with("550 5.1.1 ")) << s->refused[0].reply;
  ASSERT_EQ(s->envelope.recipients.size(), 2u);
  EXPECT_EQ(s->envelope.recipients[0].address, "admin@example.org");
  EXPECT_EQ(s->envelope.recipients[0].orcpt, "rfc822;postmaster@mx.example.com");
}

TEST(HttpSubmission, LocalRecipientsWithoutAnAliasReachTheAdminWithXOriginalTo) {
  Fixture f;
  f.cfg.local.admin = "ops@example.org";
  f.relay = smtp::RelayPolicy(policy::relay_rules(f.cfg, f.hostname));
  auto s = f.make(request({"root@mx.example.com", "bob@example.net"}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->refused.empty());
  ASSERT_EQ(s->envelope.recipients.size(), 2u);
  EXPECT_EQ(s->envelope.recipients[0].address, "ops@example.org");
  EXPECT_EQ(s->envelope.recipients[0].orcpt, "rfc822;root@mx.example.com");
  const auto field = s->body.find("\r\nX-Original-To: root@mx.example.com\r\n");
  EXPECT_NE(field, std::string::npos) << s->body;
  EXPECT_LT(field, s->body.find("\r\nSubject: ")) << "in the header, after this hop's Received";
}

TEST(HttpSubmission, RawMessagesCountHopsAndSize) {
  Fixture f;
  f.cfg.smtp.max_received_headers = 2;
  auto r = request({"bob@example.net"});
  r.raw = "Received: a\r\nReceived: b\r\nSubject: x\r\n\r\nbody\r\n";
  EXPECT_TRUE(f.make(r));
  r.raw = "Received: a\r\nReceived: b\r\nReceived: c\r\nSubject: x\r\n\r\nbody\r\n";
  auto loop = f.make(r);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().status, 400);
  EXPECT_EQ(loop.error().field, "raw");

  f.cfg.smtp.max_message_size = 40;
  r.raw = "Subject: x\r\n\r\n" + std::string(26, 'a');  // 40 octets: the limit counts the client's
  EXPECT_TRUE(f.make(r));
  r.raw = "Subject: x\r\n\r\n" + std::string(27, 'a');
  auto big = f.make(r);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().status, 413);
}

TEST(HttpSubmission, EightBitAndUtf8Addresses) {
  Fixture f;
  auto r = request({"j\xC3\xB6rg@example.net"});
  r.raw = "Subject: x\r\n\r\ncaf\xC3\xA9\r\n";
  auto s = f.make(r);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->envelope.smtputf8);
  EXPECT_EQ(s->envelope.body_type, BodyType::EightBitMime);
}

TEST(HttpReply, ErrorsAndAuthentication) {
  const auto e = reply_error(400, "bad \"x\"\n", "to[0]");
  EXPECT_EQ(e.body, "{\"error\":\"bad \\\"x\\\"\\n\",\"field\":\"to[0]\"}\n");
  const auto busy = reply_error(503, "later", "", true);
  ASSERT_EQ(busy.fields.size(), 1u);
  EXPECT_EQ(busy.fields[0].first, "Retry-After");
  const auto none = reply_unauthorized(false);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.fields.at(0).second, "Bearer realm=\"ferry\"");
  EXPECT_EQ(reply_unauthorized(true).fields.at(0).second, "Bearer realm=\"ferry\", error=\"invalid_token\"");
  EXPECT_EQ(reply_method_not_allowed("GET").fields.at(0),
            (std::pair<std::string, std::string>{"Allow", "GET"}));
}

}  // namespace
}  // namespace ferry::inbound
