// Tests for ferry/JsonEscape.hpp, the escaper shared by `--json` output and JSON log lines.
// (include/ferry is header-only and has no test executable of its own; unit_cli links it.)
#include <gtest/gtest.h>

#include <string>

#include "ferry/JsonEscape.hpp"

namespace ferry {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  append_json_escaped(out, text);
  return out;
}

TEST(JsonEscape, QuotesAndBackslash) {
  EXPECT_EQ(escaped("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escaped("C:\\dir\\"), "C:\\\\dir\\\\");
}

TEST(JsonEscape, ShortFormsForNewlineTabReturn) { EXPECT_EQ(escaped("a\nb\tc\rd"), "a\\nb\\tc\\rd"); }

TEST(JsonEscape, OtherControlCharactersAsLowerCaseUnicodeEscapes) {
  EXPECT_EQ(escaped("\x01"), "\\u0001");
  EXPECT_EQ(escaped("\x1f\x1b"), "\\u001f\\u001b");
  EXPECT_EQ(escaped(std::string_view("a\0b", 3)), "a\\u0000b");
}

TEST(JsonEscape, Utf8AndPrintableAsciiPassThrough) {
  EXPECT_EQ(escaped("caf\xc3\xa9 \xe2\x9c\x89 ~/{}"), "caf\xc3\xa9 \xe2\x9c\x89 ~/{}");
  EXPECT_EQ(escaped("\x7f"), "\x7f");  // DEL is valid JSON text
  // RFC 8259 §8.1: JSON text is UTF-8, so a stray byte becomes U+FFFD instead of passing through.
  EXPECT_EQ(escaped("\xff"), "\xef\xbf\xbd");
}

TEST(JsonEscape, AppendsWithoutClearing) {
  std::string out = "{\"msg\":\"";
  append_json_escaped(out, "x\"y");
  EXPECT_EQ(out, "{\"msg\":\"x\\\"y");
}

TEST(JsonEscape, QuoteWrapsTheEscapedBody) {
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("a\x01\t\xc3\xa9"), "\"a\\u0001\\t\xc3\xa9\"");
}

}  // namespace
}  // namespace ferry
