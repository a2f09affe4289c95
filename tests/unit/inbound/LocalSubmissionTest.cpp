// LocalSubmission (sendmail's direct enqueue, the maildrop import): [local] admin and masquerade
// give the same envelope and header as the SMTP server's loopback relay listener.
#include <gtest/gtest.h>

#include "mta/inbound/LocalSubmission.hpp"

namespace ferry::inbound {
namespace {

const smtp::WallTime kNow{1767225600000, 0};

LocalSubmission cron_mail() {
  LocalSubmission s;
  s.sender = "root@vm";
  s.recipients = {"root@vm", "cron@localhost", "bob@example.net"};
  s.message = "From: Cron Daemon <root@vm>\r\nTo: root\r\nSubject: cron\r\n\r\nsent by root@vm\r\n";
  s.login = "root";
  return s;
}

TEST(LocalSubmission, AdminAndMasquerade) {
  config::Config cfg;
  cfg.local.admin = "ops@example.com";
  cfg.local.masquerade = "example.com";
  auto m = make_local_message(cfg, "vm", nullptr, cron_mail(), QueueId{7}, kNow);
  ASSERT_TRUE(m) << m.error().message;
  const Envelope& env = m->envelope;
  EXPECT_EQ(env.reverse_path, "root@example.com");
  ASSERT_EQ(env.recipients.size(), 3u);
  EXPECT_EQ(env.recipients[0].address, "ops@example.com");
  EXPECT_EQ(env.recipients[0].orcpt, "rfc822;root@vm");
  EXPECT_EQ(env.recipients[1].address, "ops@example.com");
  EXPECT_EQ(env.recipients[1].orcpt, "rfc822;cron@localhost");
  EXPECT_EQ(env.recipients[2].address, "bob@example.net");
  EXPECT_NE(m->body.find("\r\nX-Original-To: root@vm\r\nX-Original-To: cron@localhost\r\n"
                         "From: Cron Daemon <root@example.com>\r\nTo: root\r\n"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("sent by root@vm\r\n"), std::string::npos) << "the body is not rewritten";
}

TEST(LocalSubmission, WithoutAdminTheRecipientIsRefusedWithTheFix) {
  auto m = make_local_message(config::Config{}, "vm", nullptr, cron_mail(), QueueId{7}, kNow);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(m.error().message,
            "recipient <root@vm>: <root@vm>: no alias; set [local] admin or [aliases] root");
}

}  // namespace
}  // namespace ferry::inbound
