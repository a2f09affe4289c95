// Result<T, E>: the one error shape at module boundaries, with the default Error and with a
// module's own error type (as config::ConfigError and delivery::NetworkError use it).
#include "ferry/Result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using ferry::Error;
using ferry::ErrorKind;
using ferry::Result;

// A module's own error: richer than Error, what its callers branch on.
struct ParseError {
  int line = 0;
  std::string message;
};

Result<int, ParseError> parse_digit(char c, int line) {
  if (c < '0' || c > '9') return ParseError{line, std::string("not a digit: ") + c};
  return c - '0';
}

Result<void, ParseError> check_digit(char c) {
  if (c < '0' || c > '9') return ParseError{7, "not a digit"};
  return {};
}

TEST(vocabResult, DefaultErrorIsError) {
  static_assert(std::is_same_v<Result<int>, Result<int, Error>>);
  Result<int> bad = ferry::make_error(ErrorKind::NotFound, "no such id");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(bad.error().message, "no such id");
  Result<int> good = 42;
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 42);
}

TEST(vocabResult, CustomErrorCarriesItsDetail) {
  auto good = parse_digit('7', 1);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 7);
  auto bad = parse_digit('x', 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_EQ(bad.error().message, "not a digit: x");
}

TEST(vocabResult, VoidWithCustomError) {
  EXPECT_TRUE(check_digit('1').ok());
  auto bad = check_digit('-');
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 7);
  EXPECT_EQ(bad.error().message, "not a digit");
  Result<void> fine;
  EXPECT_TRUE(fine.ok());
}

TEST(vocabResult, ValueAndErrorMoveOut) {
  Result<std::unique_ptr<int>, ParseError> owned = std::make_unique<int>(5);
  ASSERT_TRUE(owned.ok());
  std::unique_ptr<int> p = std::move(owned).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);

  Result<std::vector<int>, ParseError> failed = ParseError{9, std::string(100, 'e')};
  ParseError e = std::move(failed).error();
  EXPECT_EQ(e.line, 9);
  EXPECT_EQ(e.message.size(), 100u);
}

TEST(vocabResult, ArrowReachesTheValue) {
  Result<std::string, ParseError> r = std::string("queued");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 6u);
  r->append(" as 1");
  EXPECT_EQ(*r, "queued as 1");
}

}  // namespace
