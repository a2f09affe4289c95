// LineEndsTest: every kind of line end becomes CRLF, nothing else changes.
#include <gtest/gtest.h>

#include "ferry/text/LineEnds.hpp"

namespace ferry::text {
namespace {

TEST(text_LineEnds, EveryLineEndBecomesCrlf) {
  struct Row {
    std::string_view in, out;
  } rows[] = {
      {"", ""},
      {"a", "a"},
      {"a\nb", "a\r\nb"},
      {"a\rb", "a\r\nb"},
      {"a\r\nb", "a\r\nb"},
      {"a\n\rb", "a\r\n\r\nb"},  // LF then a lone CR: two line ends
      {"a\r\r\nb", "a\r\n\r\nb"},
      {"\n\n", "\r\n\r\n"},
      {"end\r", "end\r\n"},
      {std::string_view("nul\0x\n", 6), std::string_view("nul\0x\r\n", 7)},
  };
  for (const Row& r : rows) EXPECT_EQ(to_crlf(r.in), r.out) << r.in;
}

}  // namespace
}  // namespace ferry::text
