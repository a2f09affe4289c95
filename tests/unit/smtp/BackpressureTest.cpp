// Backpressure in ServerSession: when the queue_has_space hook says no, MAIL gets 452 4.3.1
// (a temporary refusal, not counted towards max_errors) and the session goes on normally.
#include <gtest/gtest.h>

#include "mta/smtp/ServerSession.hpp"
#include "unit/smtp/SessionReplies.hpp"

using namespace ferry;
using namespace ferry::smtp;

namespace {

using ferry::smtp::test::replies;

TEST(backpressure_ServerSession, MailRefusedWith452WhileShortOfSpace) {
  bool space = false;
  SessionHooks h;
  h.next_queue_id = [] { return ferry::QueueId{1}; };
  h.now = [] { return WallTime{1704067200000, 0}; };
  h.decide_recipient = [](std::string_view, bool) { return RecipientDecision::accept(); };
  h.queue_has_space = [&] { return space; };
  SessionPolicy p;
  p.max_errors = 2;
  ServerSession s(p, h);
  s.start();
  s.feed("EHLO c\r\n");
  replies(s);
  for (int i = 0; i < 3; ++i) {
    s.feed("MAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(replies(s), "452 4.3.1 Insufficient system storage\r\n");
  }
  EXPECT_EQ(s.error_count(), 0u);
  s.feed("RCPT TO:<c@d.example>\r\n");
  EXPECT_EQ(replies(s).substr(0, 3), "503") << "no transaction was started";
  space = true;
  s.feed("MAIL FROM:<a@b.example>\r\n");
  EXPECT_EQ(replies(s), "250 2.1.0 Ok\r\n");
}

TEST(backpressure_ServerSession, NoHookMeansNoRefusal) {
  SessionHooks h;
  h.next_queue_id = [] { return ferry::QueueId{1}; };
  h.now = [] { return WallTime{1704067200000, 0}; };
  ServerSession s({}, h);
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
  EXPECT_NE(replies(s).find("250 2.1.0 Ok"), std::string::npos);
}

}  // namespace
