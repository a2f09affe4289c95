// Xtext: RFC 3461 §4 decoding (strict: upper-case "+HH" only, nullopt when malformed) and encoding.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ferry/text/Xtext.hpp"

using namespace ferry::text;

struct XtextCase {
  const char* text;
  std::optional<std::string> decoded;  // nullopt = not xtext
};

class text_XtextDecode : public ::testing::TestWithParam<XtextCase> {};

TEST_P(text_XtextDecode, Decodes) {
  EXPECT_EQ(xtext_decode(GetParam().text), GetParam().decoded) << GetParam().text;
  EXPECT_EQ(xtext_valid(GetParam().text), GetParam().decoded.has_value()) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, text_XtextDecode,
    ::testing::Values(
        XtextCase{"abc", "abc"}, XtextCase{"", ""}, XtextCase{"a+2Bb+3Dc", "a+b=c"},
        XtextCase{"bob+2Bsales@example.com", "bob+sales@example.com"}, XtextCase{"a+3Db", "a=b"},
        XtextCase{"+C3+A9", "\xC3\xA9"}, XtextCase{"+00", std::string(1, '\0')},
        XtextCase{"a+2bb", "a+b"},  // lower-case hex is read too (liberal), as the server always did
        XtextCase{"a+3db", "a=b"}, XtextCase{"a+2", std::nullopt}, XtextCase{"a+", std::nullopt},
        XtextCase{"tail+", std::nullopt}, XtextCase{"tail+4", std::nullopt}, XtextCase{"a+GG", std::nullopt},
        XtextCase{"a=b", std::nullopt}, XtextCase{"a b", std::nullopt}, XtextCase{"a\x7f", std::nullopt},
        XtextCase{"\x80", std::nullopt}));

TEST(text_Xtext, Encode) {
  EXPECT_EQ(xtext_encode("user+tag=x y@\xC3\xA9"), "user+2Btag+3Dx+20y@+C3+A9");
  EXPECT_EQ(xtext_encode(""), "");
  EXPECT_EQ(xtext_encode("plain@example.com"), "plain@example.com");
  EXPECT_EQ(xtext_decode(xtext_encode("any \x01 octets")).value(), "any \x01 octets");
}
