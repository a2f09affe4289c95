// Base64 (RFC 4648) and reply formatting (RFC 5321 §4.2).
#include <gtest/gtest.h>

#include "mta/smtp/Base64.hpp"
#include "mta/smtp/ReplyText.hpp"

using namespace ferry::smtp;

TEST(smtp_Base64, RoundTripAndStrictness) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string("\0user\0pass", 10)), "AHVzZXIAcGFzcw==");
  EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
  EXPECT_EQ(base64_decode("Zg==").value(), "f");
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Zg=a"));
  EXPECT_FALSE(base64_decode("Zg==Zg=="));
  EXPECT_FALSE(base64_decode("Zm9v YmFy"));
  EXPECT_FALSE(base64_decode("*"));
}

TEST(smtp_ReplyText, SingleAndMultiLine) {
  EXPECT_EQ(format_reply(250, "2.1.0", "Ok"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(format_reply(220, "", "mx ESMTP Ferry"), "220 mx ESMTP Ferry\r\n");
  EXPECT_EQ(format_reply(250, "", "mx\nPIPELINING\nDSN"), "250-mx\r\n250-PIPELINING\r\n250 DSN\r\n");
  EXPECT_EQ(format_reply(214, "2.0.0", "a\nb"), "214-2.0.0 a\r\n214 2.0.0 b\r\n");
  EXPECT_EQ(format_reply(334, "", ""), "334 \r\n");
  auto r = make_reply(452, "4.3.1", "x");
  EXPECT_EQ(r.status.klass, 4);
  EXPECT_EQ(r.status.subject, 3);
  EXPECT_EQ(r.status.detail, 1);
}

TEST(smtp_ReplyText, LongTextIsSplitUnder512) {  // §4.5.3.1.5
  const std::string out = format_reply(550, "5.1.1", std::string(1200, 'z'));
  std::size_t start = 0, lines = 0;
  while (start < out.size()) {
    const std::size_t end = out.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - start, 512u);
    ++lines;
    start = end + 2;
  }
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(out.substr(0, 4), "550-");
}
