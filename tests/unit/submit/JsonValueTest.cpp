// Tests for the strict JSON parser: RFC 8259 grammar, UTF-8 validation, \u escapes with surrogate
// pairs, duplicate keys and the limits a hostile body runs into.
#include <gtest/gtest.h>

#include "mta/submit/JsonValue.hpp"

using namespace ferry::submit;
using Kind = JsonValue::Kind;

namespace {

struct Case {
  const char* name;
  std::string input;
};

TEST(JsonValue, ParsesEveryKind) {
  auto v = parse_json(R"( {"a": [1, -2.5e+3, 0, true, false, null, "x\"y\\\/\b\f\n\r\t"], "b": {}} )");
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_TRUE(v->is(Kind::Object));
  const JsonValue* a = v->find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 7u);
  EXPECT_EQ(a->items[0].text, "1");
  EXPECT_EQ(a->items[1].text, "-2.5e+3");
  EXPECT_TRUE(a->items[3].boolean);
  EXPECT_FALSE(a->items[4].boolean);
  EXPECT_TRUE(a->items[5].is(Kind::Null));
  EXPECT_EQ(a->items[6].text, "x\"y\\/\b\f\n\r\t");
  EXPECT_TRUE(v->find("b")->is(Kind::Object));
  EXPECT_EQ(v->find("c"), nullptr);
}

TEST(JsonValue, DecodesUnicodeEscapes) {
  struct {
    const char* json;
    std::string utf8;
  } cases[] = {
      {R"("\u0041")", "A"},
      {R"("\u00e9")", "\xC3\xA9"},
      {R"("\u20AC")", "\xE2\x82\xAC"},
      {R"("\ud83d\ude00")", "\xF0\x9F\x98\x80"},  // a surrogate pair is one code point
      {R"("\uDBFF\uDFFF")", "\xF4\x8F\xBF\xBF"},
      {"\"\xF0\x9F\x98\x80\"", "\xF0\x9F\x98\x80"},  // raw UTF-8 passes through
      {R"("\u0000")", std::string(1, '\0')},
  };
  for (const auto& c : cases) {
    auto v = parse_json(c.json);
    ASSERT_TRUE(v) << c.json << ": " << v.error().message;
    EXPECT_EQ(v->text, c.utf8) << c.json;
  }
}

TEST(JsonValue, RefusesMalformedInput) {
  const Case cases[] = {
      {"empty", ""},
      {"only space", "   "},
      {"trailing comma array", "[1,]"},
      {"trailing comma object", R"({"a":1,})"},
      {"missing colon", R"({"a" 1})"},
      {"single quotes", "{'a':1}"},
      {"unquoted key", "{a:1}"},
      {"two values", "1 2"},
      {"leading zero", "01"},
      {"bare minus", "-"},
      {"dot without digits", "1."},
      {"exponent without digits", "1e"},
      {"plus sign", "+1"},
      {"NaN", "NaN"},
      {"Infinity", "Infinity"},
      {"hex number", "0x10"},
      {"truncated true", "tru"},
      {"uppercase literal", "TRUE"},
      {"unterminated string", "\"abc"},
      {"raw newline in string", "\"a\nb\""},
      {"raw tab in string", "\"a\tb\""},
      {"invalid escape", R"("\x41")"},
      {"short \\u", R"("\u12")"},
      {"bad hex", R"("\u12G4")"},
      {"lone high surrogate", R"("\ud83d")"},
      {"high then other escape", R"("\ud83d\n")"},
      {"high then high", R"("\ud83d\ud83d")"},
      {"lone low surrogate", R"("\ude00")"},
      {"invalid UTF-8 byte", "\"\xFF\""},
      {"truncated UTF-8", "\"\xC3\""},
      {"overlong slash", "\"\xC0\xAF\""},
      {"overlong 3-byte", "\"\xE0\x80\xAF\""},
      {"UTF-8 surrogate", "\"\xED\xA0\x80\""},
      {"above U+10FFFF", "\"\xF4\x90\x80\x80\""},
      {"continuation alone", "\"\x80\""},
      {"duplicate key", R"({"to":["a@b.c"],"to":["x@y.z"]})"},
      {"duplicate escaped key", R"({"to":1,"t\u006f":2})"},
      {"unclosed array", "[1,2"},
      {"unclosed object", R"({"a":1)"},
      {"comment", "/* x */ 1"},
      {"NUL after value", std::string("1\0", 2)},
      {"BOM", "\xEF\xBB\xBF{}"},
  };
  for (const auto& c : cases) {
    auto v = parse_json(c.input);
    EXPECT_FALSE(v) << c.name;
    if (!v) EXPECT_EQ(v.error().kind, ferry::ErrorKind::Invalid) << c.name;
  }
}

TEST(JsonValue, BoundsDepthValuesStringsAndSize) {
  JsonLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(parse_json("[[[[1]]]]", limits));
  EXPECT_FALSE(parse_json("[[[[[1]]]]]", limits));
  EXPECT_FALSE(parse_json(R"({"a":{"b":{"c":{"d":{}}}}})", limits));
  // A hostile nesting far past the limit ends at the limit, not in a stack overflow.
  EXPECT_FALSE(parse_json(std::string(1000000, '[')));

  limits = {};
  limits.max_values = 3;
  EXPECT_TRUE(parse_json("[1,2]", limits));
  EXPECT_FALSE(parse_json("[1,2,3]", limits));

  limits = {};
  limits.max_string = 4;
  EXPECT_TRUE(parse_json(R"("abcd")", limits));
  EXPECT_FALSE(parse_json(R"("abcde")", limits));

  limits = {};
  limits.max_bytes = 8;
  EXPECT_TRUE(parse_json("[1,2,3]", limits));
  EXPECT_FALSE(parse_json("[1,2,3,4]", limits));

  EXPECT_FALSE(parse_json(std::string(100, '1')));  // numbers are at most 64 characters
}

TEST(JsonValue, ErrorsNameTheOffset) {
  auto v = parse_json(R"({"a": tru})");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("offset 6"), std::string::npos) << v.error().message;
}

}  // namespace
