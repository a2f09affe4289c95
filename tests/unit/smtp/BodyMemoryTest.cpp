// ServerSession's body buffer as the daemon's memory budget sees it: how much a feed can add,
// growth to an exact capacity without reallocation while data arrives, a dropped message read to
// its end and answered 451 4.3.1 (DATA and BDAT), and a refused message giving its buffer back.
#include <gtest/gtest.h>

#include "mta/smtp/ServerSession.hpp"
#include "unit/smtp/SessionReplies.hpp"

using namespace ferry;
using namespace ferry::smtp;

namespace {

using ferry::smtp::test::replies;

bool committed(ServerSession& s) {
  bool found = false;
  for (auto& a : s.take_actions()) found = found || std::holds_alternative<CommitMessage>(a);
  return found;
}

ServerSession open_session(BareNewlinePolicy bare = BareNewlinePolicy::Normalize) {
  SessionHooks h;
  h.next_queue_id = [] { return ferry::QueueId{1}; };
  h.now = [] { return WallTime{1704067200000, 0}; };
  h.decide_recipient = [](std::string_view, bool) { return RecipientDecision::accept(); };
  SessionPolicy p;
  p.bare_newline = bare;
  ServerSession s(p, h);
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  replies(s);
  return s;
}

TEST(bodyMemory_ServerSession, GrowthBoundIsZeroOutsideAMessage) {
  ServerSession s = open_session();
  EXPECT_EQ(s.body_growth_bound(4096), 0u);
  s.feed("DATA\r\n");
  replies(s);
  EXPECT_EQ(s.body_growth_bound(4096), 2u * 4096 + 3) << "a bare LF is stored as CRLF";
}

TEST(bodyMemory_ServerSession, BoundHoldsForBareLineEnds) {
  ServerSession s = open_session();
  s.feed("DATA\r\n");
  replies(s);
  const std::string lfs(1000, '\n');
  const std::size_t before = s.body_size();
  s.feed(lfs);
  EXPECT_LE(s.body_size() - before, s.body_growth_bound(lfs.size()));
  EXPECT_EQ(s.body_size() - before, 2 * lfs.size());
}

TEST(bodyMemory_ServerSession, ReservedBodyIsNotReallocatedWhileDataArrives) {
  ServerSession s = open_session();
  s.feed("DATA\r\n");
  replies(s);
  const std::string chunk = std::string(76, 'x') + "\r\n";
  s.reserve_body(s.body_size() + s.body_growth_bound(chunk.size() * 100));
  const std::size_t capacity = s.body_capacity();
  EXPECT_EQ(capacity, s.body_size() + s.body_growth_bound(chunk.size() * 100)) << "exactly what was asked";
  for (int i = 0; i < 100; ++i) s.feed(chunk);
  EXPECT_EQ(s.body_capacity(), capacity);
  s.feed(".\r\n");
  EXPECT_TRUE(committed(s));
  EXPECT_EQ(s.body_capacity(), std::string().capacity()) << "the body went with the commit";
}

TEST(bodyMemory_ServerSession, DroppedDataIsReadToItsEndAndAnswered451) {
  ServerSession s = open_session();
  s.feed("DATA\r\n");
  replies(s);
  s.feed("Subject: x\r\n\r\nfirst part\r\n");
  s.drop_message();
  EXPECT_EQ(s.body_growth_bound(4096), 0u) << "nothing more is stored";
  EXPECT_LT(s.body_size(), 1024u);
  s.feed("more data that is read but not stored\r\n.\r\nNOOP\r\n");
  EXPECT_EQ(replies(s),
            "451 4.3.1 Error: insufficient system resources, try again later\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(s.error_count(), 0u) << "not the client's error";
  EXPECT_EQ(s.body_capacity(), std::string().capacity());
  // The session goes on: the next message is accepted.
  s.feed("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_TRUE(committed(s));
}

TEST(bodyMemory_ServerSession, DroppedBdatChunkFailsTheRestOfTheMessage) {
  ServerSession s = open_session();
  s.feed("BDAT 10\r\n01234");
  s.drop_message();
  s.feed("56789BDAT 3 LAST\r\nabc");
  const std::string r = replies(s);
  EXPECT_EQ(r.substr(0, 9), "451 4.3.1") << r;
  EXPECT_NE(r.find("\r\n451 4.3.1"), std::string::npos) << "LAST is refused the same way: " << r;
  s.feed("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 1 LAST\r\nz");
  EXPECT_TRUE(committed(s));
}

TEST(bodyMemory_ServerSession, NoMemoryForTheCommitIs451) {
  ServerSession s = open_session();
  s.feed("DATA\r\nx\r\n.\r\n");
  replies(s);
  s.commit_result(make_error(ErrorKind::Busy, "no memory for the commit"));
  EXPECT_EQ(replies(s), "451 4.3.1 Error: insufficient system resources, try again later\r\n");
}

TEST(bodyMemory_ServerSession, AnnouncedBdatSizeIsNotReserved) {
  ServerSession s = open_session();
  s.feed("BDAT 20000000\r\n0123");
  EXPECT_LT(s.body_capacity(), 64u * 1024) << "20 MB announced, 4 octets sent";
  EXPECT_EQ(s.body_growth_bound(65536), 65536u);
}

TEST(bodyMemory_ServerSession, RefusedMessageGivesItsBufferBack) {
  ServerSession s = open_session(BareNewlinePolicy::Reject);
  s.feed("DATA\r\n");
  replies(s);
  s.reserve_body(64 * 1024);
  s.feed(std::string(2000, 'y') + "\n\r\n.\r\n");
  EXPECT_EQ(replies(s).substr(0, 9), "550 5.5.2");
  EXPECT_EQ(s.body_capacity(), std::string().capacity());
}

}  // namespace
