// DotStuffer: transparency (RFC 5321 §4.5.2), CRLF normalisation (§2.3.8), final CRLF (§4.1.1.4).
#include "mta/smtp/DotStuffer.hpp"

#include <gtest/gtest.h>

using namespace ferry::smtp;

struct StuffCase {
  std::string body;
  std::string wire;
};
class clientDotStuff : public ::testing::TestWithParam<StuffCase> {};
TEST_P(clientDotStuff, Converts) {
  EXPECT_EQ(dot_stuff(GetParam().body), GetParam().wire);
  std::string out = "prefix";
  dot_stuff_append(GetParam().body, out);
  EXPECT_EQ(out, "prefix" + GetParam().wire);
}
INSTANTIATE_TEST_SUITE_P(
    clientTable, clientDotStuff,
    ::testing::Values(StuffCase{"", ".\r\n"}, StuffCase{"a\r\n", "a\r\n.\r\n"}, StuffCase{"a", "a\r\n.\r\n"},
                      StuffCase{"\r\n", "\r\n.\r\n"}, StuffCase{".", "..\r\n.\r\n"},
                      StuffCase{".\r\n", "..\r\n.\r\n"}, StuffCase{"..x\r\n", "...x\r\n.\r\n"},
                      StuffCase{"a\r\n.b\r\n.\r\nc", "a\r\n..b\r\n..\r\nc\r\n.\r\n"},
                      StuffCase{"a\nb\n", "a\r\nb\r\n.\r\n"}, StuffCase{"a\rb\r", "a\r\nb\r\n.\r\n"},
                      StuffCase{"a\n.b", "a\r\n..b\r\n.\r\n"}, StuffCase{"a\r.b", "a\r\n..b\r\n.\r\n"},
                      StuffCase{"a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"}, StuffCase{"a\n\r", "a\r\n\r\n.\r\n"},
                      StuffCase{"x.y\r\n", "x.y\r\n.\r\n"}, StuffCase{"\n.\n", "\r\n..\r\n.\r\n"},
                      // smuggling-shaped input never produces an early terminator
                      StuffCase{"a\n.\nMAIL FROM:<x>\r\n", "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"},
                      StuffCase{std::string("caf\xC3\xA9\r\n"), std::string("caf\xC3\xA9\r\n.\r\n")}));

TEST(clientDotStuffer, LargeBodyRoundTrip) {
  std::string body;
  for (int i = 0; i < 10000; ++i) body += (i % 3 == 0 ? ".line " : "line ") + std::to_string(i) + "\r\n";
  const std::string wire = dot_stuff(body);
  EXPECT_EQ(wire.size(), body.size() + 3334 + 3);
  EXPECT_EQ(wire.substr(wire.size() - 5), "\r\n.\r\n");
}

TEST(clientDotStuffer, Has8Bit) {
  EXPECT_FALSE(has_8bit(""));
  EXPECT_FALSE(has_8bit("plain ascii\r\n\x7f"));
  EXPECT_TRUE(has_8bit("caf\xC3\xA9"));
  EXPECT_TRUE(has_8bit(std::string(1, '\x80')));
}
