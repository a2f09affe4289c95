// parse_ehlo: the one EHLO reply parser every client uses (RFC 5321 §4.1.1.1).
#include "mta/smtp/ServerCapabilities.hpp"

#include <gtest/gtest.h>

using namespace ferry::smtp;

TEST(parseEhlo, KeywordsParametersAndOrder) {
  const auto caps = parse_ehlo(
      "mx.example.org Hello\nPIPELINING\nSIZE 10240000\n8BITMIME\nsmtputf8\nDSN\n"
      "STARTTLS\nENHANCEDSTATUSCODES\nAUTH=LOGIN\nAUTH PLAIN CRAM-MD5\nX-CUSTOM a b");
  EXPECT_TRUE(caps.esmtp);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.size_limit, 10240000u);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_TRUE(caps.smtputf8);  // keywords are case-insensitive
  EXPECT_TRUE(caps.dsn);
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.enhanced_status_codes);
  EXPECT_TRUE(caps.auth_login);  // the old "AUTH=" spelling
  EXPECT_TRUE(caps.auth_plain);
  ASSERT_EQ(caps.keywords.size(), 10u);
  EXPECT_EQ(caps.keywords[0].keyword, "PIPELINING");
  EXPECT_EQ(caps.keywords[1].parameters, "10240000");
  EXPECT_EQ(caps.keywords[7].keyword, "AUTH");
  EXPECT_EQ(caps.keywords[7].parameters, "LOGIN");
  EXPECT_EQ(caps.keywords[7].line, "AUTH=LOGIN");
  EXPECT_EQ(caps.keywords[9].keyword, "X-CUSTOM");
  EXPECT_EQ(caps.keywords[9].parameters, "a b");
}

TEST(parseEhlo, GreetingLineOnlyAndOddSizes) {
  const auto none = parse_ehlo("mx.example.org");
  EXPECT_TRUE(none.esmtp);
  EXPECT_TRUE(none.keywords.empty());
  EXPECT_FALSE(none.pipelining);
  EXPECT_EQ(parse_ehlo("mx\nSIZE").size_limit, 0u);  // no fixed limit
  EXPECT_TRUE(parse_ehlo("mx\nSIZE").size);
  EXPECT_EQ(parse_ehlo("mx\nSIZE 0").size_limit, 0u);
  EXPECT_EQ(parse_ehlo("mx\nSIZE 99999999999999999999999").size_limit, UINT64_MAX);  // saturates
  EXPECT_EQ(parse_ehlo("mx\nSIZE 12abc").size_limit, 12u);
}

TEST(parseEhlo, RequireTls) {
  EXPECT_TRUE(parse_ehlo("mx\nrequiretls").requiretls);
  EXPECT_FALSE(parse_ehlo("mx\nREQUIRETLSX").requiretls);
  EXPECT_FALSE(parse_ehlo("mx\nSTARTTLS").requiretls);
}

// RFC 9422 §4: names case-insensitive, unknown names ignored, invalid values as if absent,
// values bounded.
TEST(parseEhlo, LimitsAreParsedAndBounded) {
  auto caps = parse_ehlo("mx\nLIMITS RCPTMAX=20 mailmax=5 RCPTDOMAINMAX=3 FUTURELIMIT=9");
  EXPECT_EQ(caps.rcptmax, 20u);
  EXPECT_EQ(caps.mailmax, 5u);
  EXPECT_EQ(caps.rcptdomainmax, 3u);
  caps = parse_ehlo("mx\nLIMITS RCPTMAX=0 MAILMAX=-1 RCPTDOMAINMAX=1x");
  EXPECT_EQ(caps.rcptmax, 0u);
  EXPECT_EQ(caps.mailmax, 0u);
  EXPECT_EQ(caps.rcptdomainmax, 0u);
  caps = parse_ehlo("mx\nLIMITS RCPTMAX=99999999999999999999 MAILMAX= RCPTDOMAINMAX");
  EXPECT_EQ(caps.rcptmax, 0u);
  EXPECT_EQ(caps.mailmax, 0u);
  EXPECT_EQ(caps.rcptdomainmax, 0u);
  EXPECT_EQ(parse_ehlo("mx\nLIMITS RCPTMAX=1000000").rcptmax, 1000000u);
  EXPECT_EQ(parse_ehlo("mx\nLIMITS RCPTMAX=1000001").rcptmax, 0u);
  EXPECT_EQ(parse_ehlo("mx\nLIMITS").rcptmax, 0u);
  EXPECT_EQ(parse_ehlo("mx\nLIMITS  RCPTMAX=7").rcptmax, 7u);
}
