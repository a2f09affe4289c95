// Tests for ferry/text/SafeText.hpp, the escaper for client- and remote-supplied text in logs,
// headers and terminal output. (include/ferry is header-only; unit_cli links it.)
#include <gtest/gtest.h>

#include <string>

#include "ferry/JsonEscape.hpp"
#include "ferry/text/SafeText.hpp"

namespace ferry::text {
namespace {

TEST(SafeText, PrintableAsciiPassesThrough) {
  EXPECT_EQ(safe_text("alice@example.com <x> \\ ~"), "alice@example.com <x> \\ ~");
  EXPECT_EQ(safe_text(""), "");
}

TEST(SafeText, CrLfAndOtherControlsAreHexEscapes) {
  EXPECT_EQ(safe_text("bob\r\nfake log line"), "bob\\x0D\\x0Afake log line");
  EXPECT_EQ(safe_text(std::string_view("a\0b\tc\x1b[31m\x7f", 11)), "a\\x00b\\x09c\\x1B[31m\\x7F");
}

TEST(SafeText, ValidMultiByteUtf8IsKept) {
  EXPECT_EQ(safe_text("caf\xC3\xA9 \xE2\x9C\x89 \xF0\x9F\x93\xA7 \xC2\xA0"),
            "caf\xC3\xA9 \xE2\x9C\x89 \xF0\x9F\x93\xA7 \xC2\xA0");
}

TEST(SafeText, InvalidUtf8IsReplaced) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(safe_text("a\xFF"
                      "b"),
            "a" + r + "b");                                 // never valid
  EXPECT_EQ(safe_text("\xC3"), r);                          // cut sequence
  EXPECT_EQ(safe_text("\xC0\xAF"), r + r);                  // overlong '/'
  EXPECT_EQ(safe_text("\xED\xA0\x80"), r + r + r);          // surrogate U+D800
  EXPECT_EQ(safe_text("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(safe_text("\x80x"), r + "x");                   // stray continuation
  EXPECT_EQ(safe_text("caf\xE9"), "caf" + r);               // Latin-1
}

TEST(SafeText, C1ControlsAreEscaped) {
  EXPECT_EQ(safe_text("\xC2\x9B"
                      "31m"),
            "\\xC2\\x9B31m");  // U+009B CSI
}

TEST(SafeText, IsIdempotent) {
  for (std::string_view s : {"x\r\ny", "\\x0D", "\xFF\xC2\x85", "ok \xC3\xA9"}) {
    const std::string once = safe_text(s);
    EXPECT_EQ(safe_text(once), once) << once;
  }
}

TEST(SafeText, ControlCharacterCheck) {
  EXPECT_FALSE(has_control_characters("mail.example.com"));
  EXPECT_FALSE(has_control_characters("caf\xC3\xA9.example"));
  EXPECT_TRUE(has_control_characters("a\tb"));
  EXPECT_TRUE(has_control_characters(std::string_view("a\0", 2)));
  EXPECT_TRUE(has_control_characters("a\x7f"));
}

TEST(SafeText, JsonEscapingAlwaysGivesValidUtf8) {
  std::string out;
  append_json_escaped(out, "a\xFF\xC3\xA9\x1b");
  EXPECT_EQ(out, "a\xEF\xBF\xBD\xC3\xA9\\u001b");
}

}  // namespace
}  // namespace ferry::text
