// ReplyParser: single and multi-line replies, any chunking, enhanced codes, malformed input.
#include "mta/smtp/ReplyParser.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::smtp;

namespace {
std::vector<Reply> parse_all(ReplyParser& p, std::string_view bytes, bool* error = nullptr) {
  p.feed(bytes);
  std::vector<Reply> out;
  for (;;) {
    auto r = p.next();
    if (!r.ok()) {
      if (error) *error = true;
      return out;
    }
    if (!*r) return out;
    out.push_back(**r);
  }
}
}  // namespace

struct ParseCase {
  const char* input;
  int code;
  const char* status;  // "" = none
  const char* text;
};
class clientReplyParse : public ::testing::TestWithParam<ParseCase> {};
TEST_P(clientReplyParse, Parses) {
  ReplyParser p;
  bool error = false;
  auto replies = parse_all(p, GetParam().input, &error);
  ASSERT_FALSE(error) << GetParam().input;
  ASSERT_EQ(replies.size(), 1u) << GetParam().input;
  EXPECT_EQ(replies[0].code, GetParam().code);
  EXPECT_EQ(replies[0].status.str(), GetParam().status);
  EXPECT_EQ(replies[0].text, GetParam().text);
  EXPECT_EQ(p.buffered(), 0u);
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientReplyParse,
    ::testing::Values(ParseCase{"220 mx.example.org ESMTP\r\n", 220, "", "mx.example.org ESMTP"},
                      ParseCase{"250\r\n", 250, "", ""}, ParseCase{"250 \r\n", 250, "", ""},
                      ParseCase{"250 2.1.0 Ok\r\n", 250, "2.1.0", "Ok"},
                      ParseCase{"550 5.1.1 <x@y>: user unknown\r\n", 550, "5.1.1", "<x@y>: user unknown"},
                      ParseCase{"550 5.1.10\r\n", 550, "5.1.10", ""},
                      ParseCase{"250 2.0 not enhanced\r\n", 250, "", "2.0 not enhanced"},
                      ParseCase{"250 3.1.1 bad class\r\n", 250, "", "3.1.1 bad class"},
                      ParseCase{"250 2.1.1000 too long\r\n", 250, "", "2.1.1000 too long"},
                      ParseCase{"250 2.1.0Ok\r\n", 250, "", "2.1.0Ok"},
                      ParseCase{"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
                                250, "", "mx.example.org\nPIPELINING\nSIZE 1000\n8BITMIME"},
                      ParseCase{"550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n", 550, "5.7.1",
                                "first\nsecond\nthird"},
                      ParseCase{"550-5.7.1 first\r\n550 other text\r\n", 550, "5.7.1", "first\nother text"},
                      ParseCase{"250-\r\n250 done\r\n", 250, "", "\ndone"},
                      ParseCase{"421 bare LF tolerated\n", 421, "", "bare LF tolerated"},
                      ParseCase{"599 unknown but in range\r\n", 599, "", "unknown but in range"}));

struct BadCase {
  const char* input;
};
class clientReplyMalformed : public ::testing::TestWithParam<BadCase> {};
TEST_P(clientReplyMalformed, Fails) {
  ReplyParser p;
  bool error = false;
  auto replies = parse_all(p, GetParam().input, &error);
  EXPECT_TRUE(error) << GetParam().input;
  EXPECT_TRUE(replies.empty());
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.next().ok());  // stays failed
}
INSTANTIATE_TEST_SUITE_P(clientTable, clientReplyMalformed,
                         ::testing::Values(BadCase{"hello\r\n"}, BadCase{"25\r\n"}, BadCase{"2500 x\r\n"},
                                           BadCase{"25a ok\r\n"}, BadCase{"150 preliminary\r\n"},
                                           BadCase{"650 out of range\r\n"}, BadCase{"250_x\r\n"},
                                           BadCase{"250-a\r\n251 b\r\n"}, BadCase{"\r\n"},
                                           BadCase{"HTTP/1.1 400 Bad Request\r\n"}));

TEST(clientReplyParser, EveryChunkingGivesTheSameReplies) {
  const std::string wire = "250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n354 go\r\n250 2.0.0 Ok: queued\r\n";
  for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    ReplyParser p;
    std::vector<Reply> all;
    for (std::size_t i = 0; i < wire.size(); i += chunk) {
      auto got = parse_all(p, std::string_view(wire).substr(i, chunk));
      all.insert(all.end(), got.begin(), got.end());
    }
    ASSERT_EQ(all.size(), 3u) << chunk;
    EXPECT_EQ(all[0].text, "mx\nPIPELINING\nSIZE 10");
    EXPECT_EQ(all[1].code, 354);
    EXPECT_EQ(all[2].status.str(), "2.0.0");
    EXPECT_EQ(all[2].text, "Ok: queued");
  }
}

TEST(clientReplyParser, PartialReplyWaits) {
  ReplyParser p;
  EXPECT_TRUE(parse_all(p, "250-first\r\n250 sec").empty());
  EXPECT_GT(p.buffered(), 0u);
  auto r = parse_all(p, "ond\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].text, "first\nsecond");
}

TEST(clientReplyParser, LineLengths) {
  // RFC 5321 §4.5.3.1.5: 512 octets must be accepted; longer tolerated up to the cap.
  ReplyParser p;
  const std::string l512 = "250 " + std::string(506, 'x') + "\r\n";
  ASSERT_EQ(l512.size(), 512u);
  EXPECT_EQ(parse_all(p, l512).size(), 1u);
  const std::string l2000 = "250 " + std::string(1994, 'y') + "\r\n";
  EXPECT_EQ(parse_all(p, l2000).size(), 1u);
  ReplyParser small({100, 1000});
  bool error = false;
  parse_all(small, "250 " + std::string(200, 'z'), &error);  // no newline yet, already too long
  EXPECT_TRUE(error);
  ReplyParser tiny({100, 150});
  error = false;
  parse_all(tiny, "250-" + std::string(80, 'a') + "\r\n250-" + std::string(80, 'b') + "\r\n", &error);
  EXPECT_TRUE(error);
}

TEST(clientReplyParser, ResetDiscardsBufferedBytes) {
  ReplyParser p;
  p.feed("220 go ahead\r\n250 injected\r\n");
  auto r = p.next();
  ASSERT_TRUE(r.ok() && *r);
  p.reset();  // RFC 3207 §4.2
  EXPECT_EQ(p.buffered(), 0u);
  auto none = p.next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST(clientReplyParser, EnhancedStatusHelper) {
  EnhancedStatus s;
  EXPECT_EQ(parse_enhanced_status("4.7.1 greylisted", s), 6u);
  EXPECT_EQ(s.str(), "4.7.1");
  EXPECT_EQ(parse_enhanced_status("5.1.10", s), 6u);
  EXPECT_EQ(parse_enhanced_status("5.123.456 x", s), 10u);
  EXPECT_EQ(parse_enhanced_status("1.0.0 x", s), 0u);
  EXPECT_EQ(parse_enhanced_status("2.0 x", s), 0u);
  EXPECT_EQ(parse_enhanced_status("", s), 0u);
}
