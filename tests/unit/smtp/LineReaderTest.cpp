// LineReader: CRLF-only command lines (RFC 5321 §2.3.8), bounded memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mta/smtp/LineReader.hpp"

using namespace ferry::smtp;

namespace {

struct Line {
  std::string text;
  bool bare_lf, bare_cr, too_long;
};

std::vector<Line> split(std::string_view input, std::size_t max = 512, std::size_t step = 0) {
  LineReader r(max);
  std::vector<Line> out;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::string_view chunk = input.substr(pos, step ? step : input.size() - pos);
    std::size_t used = r.consume(chunk);
    pos += used;
    if (r.has_line()) {
      out.push_back({std::string(r.line()), r.bare_lf(), r.bare_cr(), r.too_long()});
      r.take_line();
    }
  }
  return out;
}

TEST(smtp_LineReader, SplitsOnCrlfOnly) {
  auto lines = split("EHLO a\r\nMAIL FROM:<>\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "EHLO a");
  EXPECT_EQ(lines[1].text, "MAIL FROM:<>");
}

TEST(smtp_LineReader, BareLfDoesNotEndALine) {
  auto lines = split("NOOP\nRSET\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NOOP\nRSET");
  EXPECT_TRUE(lines[0].bare_lf);
}

TEST(smtp_LineReader, BareCrDoesNotEndALine) {
  auto lines = split("NOOP\rRSET\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NOOP\rRSET");
  EXPECT_TRUE(lines[0].bare_cr);
  EXPECT_FALSE(lines[0].bare_lf);
}

TEST(smtp_LineReader, CrlfSplitAcrossFeeds) {
  for (std::size_t step = 1; step <= 5; ++step) {
    auto lines = split("NOOP\r\nQUIT\r\n", 512, step);
    ASSERT_EQ(lines.size(), 2u) << step;
    EXPECT_EQ(lines[0].text, "NOOP");
    EXPECT_FALSE(lines[0].bare_cr);
    EXPECT_EQ(lines[1].text, "QUIT");
  }
}

TEST(smtp_LineReader, TooLongLineIsBoundedAndFlagged) {
  std::string big(5000, 'x');
  auto lines = split(big + "\r\nNOOP\r\n", 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[0].text.size(), 100u);
  EXPECT_EQ(lines[1].text, "NOOP");
  EXPECT_FALSE(lines[1].too_long);
}

TEST(smtp_LineReader, PartialLineWaits) {
  LineReader r;
  EXPECT_EQ(r.consume("NOO"), 3u);
  EXPECT_FALSE(r.has_line());
  EXPECT_EQ(r.consume("P\r"), 2u);
  EXPECT_FALSE(r.has_line());
  EXPECT_EQ(r.consume("\nRSET\r\n"), 1u);  // stops after the line
  ASSERT_TRUE(r.has_line());
  EXPECT_EQ(r.line(), "NOOP");
}

}  // namespace
