// Table tests for CommandParser (RFC 5321 §4.1, RFC 1870, 3461, 6152, 6531, 3030, 4954).
#include <gtest/gtest.h>

#include <string>

#include "mta/smtp/CommandParser.hpp"

using namespace ferry;
using namespace ferry::smtp;

namespace {

struct Case {
  std::string line;
  Verb verb;
  int code;            // 0 = accepted
  std::string status;  // expected enhanced status on error
};

class smtp_CommandParserTable : public ::testing::TestWithParam<Case> {};

TEST_P(smtp_CommandParserTable, Parses) {
  const Case& c = GetParam();
  auto r = parse_command(c.line);
  EXPECT_EQ(r.command.verb, c.verb) << c.line;
  if (c.code == 0) {
    EXPECT_TRUE(r.ok()) << c.line << " -> " << (r.error ? r.error->text : "");
  } else {
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.error->code, c.code) << c.line << " -> " << r.error->text;
    EXPECT_EQ(r.error->status.str(), c.status) << c.line;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lines, smtp_CommandParserTable,
    ::testing::Values(
        Case{"EHLO client.example", Verb::Ehlo, 0, ""}, Case{"ehlo client.example", Verb::Ehlo, 0, ""},
        Case{"HeLo client", Verb::Helo, 0, ""}, Case{"EHLO", Verb::Ehlo, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example>", Verb::Mail, 0, ""},
        Case{"mail from:<a@b.example>", Verb::Mail, 0, ""},
        Case{"MAIL FROM: <a@b.example>", Verb::Mail, 0, ""}, Case{"MAIL FROM:<>", Verb::Mail, 0, ""},
        Case{"MAIL TO:<a@b.example>", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:a@b.example", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@@b>", Verb::Mail, 501, "5.1.7"},
        Case{"MAIL FROM:<a@b.example>SIZE=1", Verb::Mail, 501, "5.1.7"},
        Case{"MAIL FROM:<a@b.example> SIZE=1000", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> size=1000", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> SIZE=", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> SIZE=12x", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> SIZE", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> BODY=7BIT", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> BODY=8bitmime", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> BODY=BINARYMIME", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> BODY=9BIT", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> SMTPUTF8", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> SMTPUTF8=yes", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> RET=FULL", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> RET=hdrs", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> RET=SOME", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> ENVID=abc+2Bdef", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> ENVID=abc+2", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> ENVID=abc+ZZ", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> ENVID=abc+2b", Verb::Mail, 0, ""},  // lower-case hex read liberally
        Case{"MAIL FROM:<a@b.example> AUTH=<>", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> AUTH=user+40example.com", Verb::Mail, 0, ""},
        Case{"MAIL FROM:<a@b.example> FOO=BAR", Verb::Mail, 555, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> NOTIFY=NEVER", Verb::Mail, 555, "5.5.4"},  // RCPT-only
        Case{"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<a@b.example> =x", Verb::Mail, 501, "5.5.4"},
        Case{"MAIL FROM:<j\xC3\xB6rg@b.example>", Verb::Mail, 553, "5.6.7"},
        Case{"MAIL FROM:<j\xC3\xB6rg@b.example> SMTPUTF8", Verb::Mail, 0, ""},
        Case{"RCPT TO:<c@d.example>", Verb::Rcpt, 0, ""}, Case{"RCPT TO:<postmaster>", Verb::Rcpt, 0, ""},
        Case{"RCPT TO:<>", Verb::Rcpt, 501, "5.1.3"},
        Case{"RCPT FROM:<c@d.example>", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> NOTIFY=NEVER", Verb::Rcpt, 0, ""},
        Case{"RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE,DELAY", Verb::Rcpt, 0, ""},
        Case{"RCPT TO:<c@d.example> NOTIFY=never,success", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> NOTIFY=SOMETIMES", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> NOTIFY=SUCCESS,", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> ORCPT=rfc822;c+40d.example", Verb::Rcpt, 0, ""},
        Case{"RCPT TO:<c@d.example> ORCPT=rfc822", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> ORCPT=;x", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> ORCPT=rfc822;a+4", Verb::Rcpt, 501, "5.5.4"},
        Case{"RCPT TO:<c@d.example> ORCPT=rfc822;c+40d+2e", Verb::Rcpt, 0, ""},
        Case{"RCPT TO:<c@d.example> SIZE=10", Verb::Rcpt, 555, "5.5.4"}, Case{"DATA", Verb::Data, 0, ""},
        Case{"data", Verb::Data, 0, ""}, Case{"DATA x", Verb::Data, 501, "5.5.4"},
        Case{"BDAT 100", Verb::Bdat, 0, ""}, Case{"BDAT 0 LAST", Verb::Bdat, 0, ""},
        Case{"BDAT 10 last", Verb::Bdat, 0, ""}, Case{"BDAT", Verb::Bdat, 501, "5.5.4"},
        Case{"BDAT x", Verb::Bdat, 501, "5.5.4"}, Case{"BDAT 10 FIRST", Verb::Bdat, 501, "5.5.4"},
        Case{"RSET", Verb::Rset, 0, ""}, Case{"RSET now", Verb::Rset, 501, "5.5.4"},
        Case{"NOOP", Verb::Noop, 0, ""}, Case{"NOOP anything at all", Verb::Noop, 0, ""},
        Case{"QUIT", Verb::Quit, 0, ""}, Case{"VRFY root", Verb::Vrfy, 0, ""},
        Case{"VRFY", Verb::Vrfy, 501, "5.5.4"}, Case{"EXPN list", Verb::Expn, 0, ""},
        Case{"HELP", Verb::Help, 0, ""}, Case{"STARTTLS", Verb::StartTls, 0, ""},
        Case{"STARTTLS now", Verb::StartTls, 501, "5.5.4"}, Case{"AUTH PLAIN", Verb::Auth, 0, ""},
        Case{"AUTH", Verb::Auth, 501, "5.5.4"}, Case{"TURN", Verb::Unimplemented, 0, ""},
        Case{"FOO bar", Verb::Unknown, 500, "5.5.2"}, Case{"", Verb::Unknown, 500, "5.5.2"}));

TEST(smtp_CommandParser, MailParametersAreDecoded) {
  auto r = parse_command("MAIL FROM:<a@b.example> SIZE=12345 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1 SMTPUTF8");
  ASSERT_TRUE(r.ok());
  const auto& m = r.command.mail;
  EXPECT_EQ(m.size.value(), 12345u);
  EXPECT_EQ(m.body, BodyType::EightBitMime);
  EXPECT_EQ(m.ret, DsnRet::Hdrs);
  EXPECT_EQ(m.envid, "QQ+1");  // xtext decoded (RFC 3461 §4)
  EXPECT_TRUE(m.smtputf8);
  EXPECT_EQ(r.command.path.address, "a@b.example");
}

TEST(smtp_CommandParser, HugeSizeSaturates) {
  auto r = parse_command("MAIL FROM:<a@b.example> SIZE=999999999999999999999999999");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.mail.size.value(), UINT64_MAX);
}

TEST(smtp_CommandParser, RcptParameters) {
  auto r = parse_command("RCPT TO:<c@d.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;C+40d.example");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.rcpt.notify, kNotifyFailure | kNotifyDelay);
  EXPECT_EQ(r.command.rcpt.orcpt, "rfc822;C+40d.example");  // verbatim (RFC 3461 §4.2)
}

TEST(smtp_CommandParser, BdatFields) {
  auto r = parse_command("BDAT 42 LAST");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.bdat_size, 42u);
  EXPECT_TRUE(r.command.bdat_last);
}

TEST(smtp_CommandParser, ParametersNeedEhlo) {  // checklist 3461-01: extensions only after EHLO
  CommandParseOptions helo;
  helo.esmtp = false;
  EXPECT_TRUE(parse_command("MAIL FROM:<a@b.example>", helo).ok());
  auto r = parse_command("MAIL FROM:<a@b.example> SIZE=10", helo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, 555);
}

TEST(smtp_CommandParser, LineLengthLimit) {  // §4.5.3.1.4: 512 including CRLF
  std::string ok = "NOOP " + std::string(505, 'x');
  ASSERT_EQ(ok.size(), 510u);
  EXPECT_TRUE(parse_command(ok).ok());
  auto r = parse_command(ok + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, 500);
  EXPECT_EQ(r.error->status.str(), "5.5.6");
  // RFC 4954 §4: AUTH lines may be longer.
  EXPECT_TRUE(parse_command("AUTH PLAIN " + std::string(1000, 'A')).ok());
}

TEST(smtp_CommandParser, ArgumentTrailingSpaceTrimmed) {
  auto r = parse_command("EHLO client.example  ");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.argument, "client.example");
}

}  // namespace
