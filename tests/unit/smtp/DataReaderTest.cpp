// DataReader: end of data, dot-unstuffing, smuggling variants, bare newline policies, limits.
#include <gtest/gtest.h>

#include <string>

#include "mta/smtp/DataReader.hpp"

using namespace ferry::smtp;

namespace {

struct Read {
  bool done = false;
  std::string body;
  DataOutcome outcome = DataOutcome::Ok;
  std::size_t consumed = 0;
  std::size_t received = 0;
};

Read read(std::string_view input, DataLimits limits = {}, std::size_t step = 0) {
  Read out;
  DataReader r(out.body, limits);
  std::size_t pos = 0;
  while (pos < input.size() && !r.done()) {
    std::string_view chunk = input.substr(pos, step ? step : input.size() - pos);
    pos += r.consume(chunk);
  }
  out.done = r.done();
  out.outcome = r.outcome();
  out.consumed = pos;
  out.received = r.received_headers();
  return out;
}

struct Case {
  const char* name;
  std::string input;
  bool done;
  std::string body;      // expected stored body (Normalize)
  std::size_t consumed;  // expected octets consumed (npos = all)
};

class smtp_DataReaderTable : public ::testing::TestWithParam<Case> {};

TEST_P(smtp_DataReaderTable, Normalize) {
  const Case& c = GetParam();
  for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    Read r = read(c.input, {}, step);
    EXPECT_EQ(r.done, c.done) << c.name << " step " << step;
    EXPECT_EQ(r.body, c.body) << c.name << " step " << step;
    const std::size_t want = c.consumed == std::string::npos ? c.input.size() : c.consumed;
    EXPECT_EQ(r.consumed, want) << c.name << " step " << step;
    EXPECT_EQ(r.outcome, DataOutcome::Ok) << c.name;
  }
}

const std::size_t ALL = std::string::npos;

INSTANTIATE_TEST_SUITE_P(
    Bodies, smtp_DataReaderTable,
    ::testing::Values(
        Case{"simple", "Subject: x\r\n\r\nhello\r\n.\r\n", true, "Subject: x\r\n\r\nhello\r\n", ALL},
        Case{"empty message", ".\r\n", true, "", ALL},  // first line counts as a line start
        Case{"stops after the dot", "a\r\n.\r\nQUIT\r\n", true, "a\r\n", 6},
        Case{"unstuff", "..hidden\r\n...\r\n.\r\n", true, ".hidden\r\n..\r\n", ALL},
        Case{"dot inside line", "a.b\r\n .\r\n.\r\n", true, "a.b\r\n .\r\n", ALL},
        Case{"no end yet", "hello\r\n", false, "hello\r\n", ALL},
        Case{"dot then text", "hello\r\n.x\r\n", false, "hello\r\nx\r\n", ALL},
        // SMTP smuggling (CVE-2023-51764 family): none of these end the data.
        Case{"LF.LF", "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", true, "a\r\n.\r\nMAIL FROM:<x@y>\r\n", ALL},
        Case{"LF.CRLF", "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", true, "a\r\n.\r\nMAIL FROM:<x@y>\r\n", ALL},
        Case{"CRLF.LF", "a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", true, "a\r\n.\r\nMAIL FROM:<x@y>\r\n", ALL},
        Case{"CR.CR", "a\r.\rMAIL FROM:<x@y>\r\n.\r\n", true, "a\r\n.\r\nMAIL FROM:<x@y>\r\n", ALL},
        Case{"CR.CRLF", "a\r.\r\nRSET\r\n.\r\n", true, "a\r\n.\r\nRSET\r\n", ALL},
        Case{"first line .LF", ".\nRSET\r\n.\r\n", true, ".\r\nRSET\r\n", ALL},
        Case{"bare LF normalised", "a\nb\r\n.\r\n", true, "a\r\nb\r\n", ALL},
        Case{"bare CR normalised", "a\rb\r\n.\r\n", true, "a\r\nb\r\n", ALL},
        Case{"CRCRLF", "a\r\r\n.\r\n", true, "a\r\n\r\n", ALL},
        Case{"binary octets", std::string("\x00\xff\x80z\r\n.\r\n", 9), true,
             std::string("\x00\xff\x80z\r\n", 6), ALL}));

TEST(smtp_DataReader, RejectPolicyReadsToTheRealEnd) {
  DataLimits limits;
  limits.bare_newline = BareNewlinePolicy::Reject;
  Read r = read("a\nb\r\n.\nQUIT\r\n.\r\nNOOP\r\n", limits);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.outcome, DataOutcome::BareLf);
  EXPECT_EQ(r.consumed, std::string("a\nb\r\n.\nQUIT\r\n.\r\n").size());
  Read cr = read("a\rb\r\n.\r\n", limits);
  EXPECT_EQ(cr.outcome, DataOutcome::BareCr);
  Read clean = read("a\r\n.\r\n", limits);
  EXPECT_EQ(clean.outcome, DataOutcome::Ok);
}

TEST(smtp_DataReader, SizeLimitKeepsReadingThenFails) {  // RFC 1870 §6.3
  DataLimits limits;
  limits.max_size = 10;
  Read r = read("0123456789abcdef\r\nmore\r\n.\r\nQUIT\r\n", limits);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.outcome, DataOutcome::TooBig);
  EXPECT_TRUE(r.body.empty());                  // memory released
  Read ok = read("01234567\r\n.\r\n", limits);  // exactly 10 octets
  EXPECT_EQ(ok.outcome, DataOutcome::Ok);
}

TEST(smtp_DataReader, LongLinesAreFoldedAt998) {  // §4.5.3.1.6
  std::string line(2500, 'x');
  Read r = read(line + "\r\n.\r\n");
  ASSERT_TRUE(r.done);
  const std::string expected =
      std::string(998, 'x') + "\r\n " + std::string(997, 'x') + "\r\n " + std::string(505, 'x') + "\r\n";
  EXPECT_EQ(r.body, expected);
  Read exact = read(std::string(998, 'y') + "\r\n.\r\n");  // 1000 with CRLF: untouched
  EXPECT_EQ(exact.body, std::string(998, 'y') + "\r\n");
}

TEST(smtp_DataReader, CountsReceivedHeadersInHeaderSectionOnly) {
  std::string msg;
  for (int i = 0; i < 3; ++i) msg += "Received: from x by y; date\r\n";
  msg += "received: lower case counts too\r\nSubject: s\r\n\r\nReceived: in body, ignored\r\n.\r\n";
  Read r = read(msg);
  EXPECT_EQ(r.received, 4u);
  EXPECT_EQ(count_received_headers(r.body), 4u);
  DataLimits limits;
  limits.max_received_headers = 3;
  EXPECT_EQ(read(msg, limits).outcome, DataOutcome::TooManyHops);
  limits.max_received_headers = 4;
  EXPECT_EQ(read(msg, limits).outcome, DataOutcome::Ok);
}

TEST(smtp_DataReader, AppendsAfterExistingContent) {
  std::string body = "Received: ours\r\n";
  DataReader r(body, {});
  r.consume("X: y\r\n.\r\n");
  EXPECT_TRUE(r.done());
  EXPECT_EQ(body, "Received: ours\r\nX: y\r\n");
  EXPECT_EQ(r.size(), 6u);
  EXPECT_EQ(r.received_headers(), 0u);  // our own header is not counted
}

}  // namespace
