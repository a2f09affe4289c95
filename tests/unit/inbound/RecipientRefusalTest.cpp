// A refusal hook's line turned into the RCPT reply: kept when it is a 4xx/5xx reply, 451 4.3.0
// otherwise; never an accept, never a second line.
#include "mta/inbound/RecipientRefusal.hpp"

#include <gtest/gtest.h>

#include "mta/smtp/ReplyText.hpp"

namespace ferry::inbound {
namespace {

struct Case {
  const char* line;
  const char* wire;  // what the client reads
};

TEST(RecipientRefusal, LinesBecomeOneReply) {
  const Case cases[] = {
      {"550 5.1.1 <a@b.example>: suppressed after a hard bounce on 2026-12-08 (unknown_user)",
       "550 5.1.1 <a@b.example>: suppressed after a hard bounce on 2026-12-08 (unknown_user)\r\n"},
      {"450 4.2.0 try later", "450 4.2.0 try later\r\n"},
      {"554 no status", "554 no status\r\n"},
      // Only the first line counts: a hook cannot smuggle a second reply.
      {"550 5.1.1 first\r\n250 2.1.5 Ok", "550 5.1.1 first\r\n"},
      // Not a refusal: a temporary failure rather than an accept.
      {"250 2.1.5 Ok", "451 4.3.0 Recipient check failed\r\n"},
      {"", "451 4.3.0 Recipient check failed\r\n"},
      {"garbage", "451 4.3.0 Recipient check failed\r\n"},
      {"999 5.1.1 x", "451 4.3.0 Recipient check failed\r\n"},
  };
  for (const Case& c : cases) {
    const smtp::RecipientDecision d = recipient_refused(c.line);
    EXPECT_EQ(d.kind, smtp::RecipientDecision::Kind::Reject) << c.line;
    EXPECT_EQ(smtp::format_reply(d.reply), c.wire) << c.line;
  }
}

TEST(RecipientRefusal, AnAliasTargetIsNotShown) {
  const auto d =
      recipient_refused("550 5.1.1 <admin@corp.example>: suppressed after a hard bounce on 2026-12-08 (x)",
                        "admin@corp.example", "root@local.example");
  EXPECT_EQ(smtp::format_reply(d.reply),
            "550 5.1.1 <root@local.example>: suppressed after a hard bounce on 2026-12-08 (x)\r\n");
  const auto same = recipient_refused("550 5.1.1 <a@b>: suppressed", "a@b", "a@b");
  EXPECT_EQ(smtp::format_reply(same.reply), "550 5.1.1 <a@b>: suppressed\r\n");
}

}  // namespace
}  // namespace ferry::inbound
