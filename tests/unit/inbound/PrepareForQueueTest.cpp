// The one acceptance path: the order of the fields this hop adds (DKIM-Signature above our
// Received), the queue record's size and times, and local submission taking the same path.
#include <gtest/gtest.h>

#include <string>

#include "mta/config/Config.hpp"
#include "mta/dkim/DkimKey.hpp"
#include "mta/inbound/LocalSubmission.hpp"
#include "mta/inbound/PrepareForQueue.hpp"

namespace ferry::inbound {
namespace {

constexpr std::string_view kKey =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kReceived = "Received: by mx.example.org (Ferry)\r\n\tid 00000000000000AB; x\r\n";
constexpr std::string_view kMessage = "From: <joe@example.com>\r\nSubject: hi\r\n\r\nHi.\r\n";
constexpr TimeMs kNow = 1704067200000;

dkim::DkimSigner signer() {
  auto key = dkim::DkimKey::from_pem(kKey, "test");
  EXPECT_TRUE(key);
  dkim::SigningEntry e;
  e.domain = "example.com";
  e.selector = "s";
  e.key_path = "(memory)";
  return dkim::DkimSigner::with_keys({{e, std::move(key).value()}});
}

TEST(daemon_PrepareForQueue, SignatureGoesAboveThisHopsReceived) {
  const auto s = signer();
  const std::string body = std::string(kReceived) + std::string(kMessage);
  auto msg = prepare_for_queue(QueueId{0xAB}, Envelope{}, body, &s, kNow);
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->body.starts_with("DKIM-Signature: v=1;")) << msg->body;
  const auto received = msg->body.find(kReceived);
  ASSERT_NE(received, std::string::npos);
  EXPECT_EQ(msg->body.substr(received), std::string(kReceived) + std::string(kMessage));
  EXPECT_EQ(msg->envelope.size, msg->body.size());
  EXPECT_EQ(msg->envelope.arrival_ms, kNow);
  EXPECT_EQ(msg->first_due_ms, kNow);
  EXPECT_EQ(msg->id, QueueId{0xAB});
}

TEST(daemon_PrepareForQueue, NoSignerLeavesTheBody) {
  const dkim::DkimSigner none;
  const std::string body = std::string(kReceived) + std::string(kMessage);
  for (const dkim::DkimSigner* s : {static_cast<const dkim::DkimSigner*>(nullptr), &none}) {
    std::string b = body;
    auto report = sign_for_queue(b, s, kNow);
    ASSERT_TRUE(report);
    EXPECT_EQ(b, body);
    EXPECT_TRUE(report->domain.empty());
  }
}

TEST(daemon_PrepareForQueue, UnsignableMessageSaysWhy) {
  const auto s = signer();
  std::string body = std::string(kReceived) + "Subject: no From\r\n\r\nHi.\r\n";
  const std::string before = body;
  auto report = sign_for_queue(body, &s, kNow);
  ASSERT_TRUE(report);
  EXPECT_EQ(body, before);
  EXPECT_FALSE(report->skipped.empty());
}

TEST(daemon_PrepareForQueue, ArrivalFromTheSessionIsKept) {
  Envelope env;
  env.arrival_ms = 5;
  auto rec = to_queue_record(QueueId{1}, env, "x\r\n", kNow);
  EXPECT_EQ(rec.envelope.arrival_ms, 5);
  EXPECT_EQ(rec.first_due_ms, 5);
  EXPECT_EQ(rec.envelope.size, 3u);
}

// Local submission is shaped as SMTP acceptance: the signature above the Received naming the user.
TEST(daemon_PrepareForQueue, LocalSubmissionHasTheSameOrder) {
  const auto s = signer();
  config::Config cfg;
  LocalSubmission sub;
  sub.sender = "joe@example.com";
  sub.recipients = {"suzie@remote.example"};
  sub.message = std::string(kMessage);
  sub.uid = 1000;
  sub.login = "joe";
  auto msg = make_local_message(cfg, "mx.example.org", &s, sub, QueueId{0xAB}, smtp::WallTime{kNow, 0});
  ASSERT_TRUE(msg) << msg.error().message;
  EXPECT_TRUE(msg->body.starts_with("DKIM-Signature: v=1;")) << msg->body;
  const auto received = msg->body.find("\r\nReceived: by mx.example.org (Ferry, from userid 1000)");
  ASSERT_NE(received, std::string::npos) << msg->body;
  EXPECT_TRUE(msg->body.ends_with(kMessage));
  EXPECT_EQ(msg->envelope.size, msg->body.size());
}

}  // namespace
}  // namespace ferry::inbound
