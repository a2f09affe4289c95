// Table tests for AddressParser (RFC 5321 §4.1.2, §4.5.3.1, RFC 6531).
#include <gtest/gtest.h>

#include <string>

#include "mta/smtp/AddressParser.hpp"

using namespace ferry::smtp;

namespace {

struct Case {
  std::string text;
  PathKind kind;
  bool utf8;
  AddressError error;
  std::string address;  // expected on success
};

class smtp_AddressParserTable : public ::testing::TestWithParam<Case> {};

TEST_P(smtp_AddressParserTable, Parses) {
  const Case& c = GetParam();
  auto r = parse_path(c.text, c.kind, c.utf8);
  EXPECT_EQ(r.error, c.error) << c.text << " -> " << to_string(r.error);
  if (c.error == AddressError::None) {
    EXPECT_EQ(r.path.address, c.address) << c.text;
    EXPECT_GT(r.consumed, 0u);
  }
}

const auto F = PathKind::Forward;
const auto R = PathKind::Reverse;
const auto OK = AddressError::None;
const auto SYN = AddressError::Syntax;

INSTANTIATE_TEST_SUITE_P(
    Paths, smtp_AddressParserTable,
    ::testing::Values(
        Case{"<user@example.com>", F, false, OK, "user@example.com"},
        Case{"<User.Name+tag@Example.COM>", F, false, OK,
             "User.Name+tag@Example.COM"},  // case kept (5321-08)
        Case{"<a!#$%&'*+-/=?^_`{|}~@example.com>", F, false, OK, "a!#$%&'*+-/=?^_`{|}~@example.com"},
        Case{"<\"john doe\"@example.com>", F, false, OK, "\"john doe\"@example.com"},
        Case{"<\"a\\\"b\"@example.com>", F, false, OK, "\"a\\\"b\"@example.com"},
        Case{"<\"a>b\"@example.com>", F, false, OK, "\"a>b\"@example.com"},
        Case{"<user@[192.0.2.1]>", F, false, OK, "user@[192.0.2.1]"},
        Case{"<user@[IPv6:2001:db8::1]>", F, false, OK, "user@[IPv6:2001:db8::1]"},
        Case{"<user@[ipv6:::1]>", F, false, OK, "user@[ipv6:::1]"},
        Case{"<user@[x-tag:abc]>", F, false, OK, "user@[x-tag:abc]"},
        Case{"<user@[192.0.2.256]>", F, false, SYN, ""},
        Case{"<user@[IPv6:2001:db8:::1]>", F, false, SYN, ""}, Case{"<user@[192.0.2.1>", F, false, SYN, ""},
        Case{"<>", R, false, OK, ""}, Case{"<>", F, false, SYN, ""},
        Case{"<@a.example,@b.example:user@c.example>", F, false, OK, "user@c.example"},  // route dropped
        Case{"<@a.example:user@c.example>", R, false, OK, "user@c.example"},
        Case{"<@a.example,b.example:user@c.example>", F, false, SYN, ""},
        Case{"<@a.example user@c.example>", F, false, SYN, ""},
        Case{"<postmaster>", F, false, OK, "postmaster"}, Case{"<PostMaster>", F, false, OK, "PostMaster"},
        Case{"<postmaster>", R, false, SYN, ""}, Case{"<user>", F, false, SYN, ""},
        Case{"user@example.com", F, false, SYN, ""}, Case{"<user@example.com", F, false, SYN, ""},
        Case{"<.user@example.com>", F, false, SYN, ""}, Case{"<user.@example.com>", F, false, SYN, ""},
        Case{"<us..er@example.com>", F, false, SYN, ""}, Case{"<user@-example.com>", F, false, SYN, ""},
        Case{"<user@example-.com>", F, false, SYN, ""}, Case{"<user@example..com>", F, false, SYN, ""},
        Case{"<user@example.com.>", F, false, SYN, ""}, Case{"<user@>", F, false, SYN, ""},
        Case{"<@example.com>", F, false, SYN, ""}, Case{"<us er@example.com>", F, false, SYN, ""},
        Case{"<\"unterminated@example.com>", F, false, SYN, ""},
        Case{"<\"ctl\x01\"@example.com>", F, false, SYN, ""},
        // RFC 6531: UTF-8 only with SMTPUTF8.
        Case{"<j\xC3\xB6rg@b\xC3\xBC"
             "cher.example>",
             F, true, OK,
             "j\xC3\xB6rg@b\xC3\xBC"
             "cher.example"},
        Case{"<j\xC3\xB6rg@example.com>", F, false, AddressError::Utf8NotAllowed, ""},
        Case{"<user@b\xC3\xBC"
             "cher.example>",
             R, false, AddressError::Utf8NotAllowed, ""},
        Case{"<\"\xE2\x82\xAC\"@example.com>", F, true, OK, "\"\xE2\x82\xAC\"@example.com"},
        Case{"<bad\xC3@example.com>", F, true, SYN, ""},         // truncated sequence
        Case{"<bad\xC0\xAF@example.com>", F, true, SYN, ""},     // overlong
        Case{"<bad\xED\xA0\x80@example.com>", F, true, SYN, ""}  // surrogate
        ));

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// A domain of `n` octets made of 63-octet labels.
std::string domain_of(std::size_t n) {
  std::string d;
  while (n - d.size() > 63) d += repeat('d', 62) + ".";
  d += repeat('d', n - d.size());
  return d;
}

TEST(smtp_AddressLimits, LocalPart64IsAcceptedAnd65IsNot) {  // §4.5.3.1.1, checklist 5321-10
  EXPECT_TRUE(
      parse_path(std::string("<") + repeat('a', 64) + "@example.com>", PathKind::Forward, false).ok());
  EXPECT_EQ(parse_path(std::string("<") + repeat('a', 65) + "@example.com>", PathKind::Forward, false).error,
            AddressError::LocalPartTooLong);
}

TEST(smtp_AddressLimits, Domain255IsValidAnd256IsTooLong) {  // §4.5.3.1.2, checklist 5321-11
  const std::string d255 = domain_of(255);
  ASSERT_EQ(d255.size(), 255u);
  EXPECT_TRUE(is_valid_domain(d255, false));
  AddressLimits roomy;
  roomy.path = 1000;  // isolate the domain limit from the path limit
  EXPECT_TRUE(parse_path("<a@" + d255 + ">", PathKind::Forward, false, roomy).ok());
  EXPECT_EQ(parse_path("<a@" + domain_of(256) + ">", PathKind::Forward, false, roomy).error,
            AddressError::DomainTooLong);
}

TEST(smtp_AddressLimits, Path256IsAcceptedAnd257IsNot) {  // §4.5.3.1.3, checklist 5321-12
  // "<" + 64 + "@" + domain + ">" = 256  -> domain of 189.
  const std::string p256 = std::string("<") + repeat('a', 64) + "@" + domain_of(189) + ">";
  ASSERT_EQ(p256.size(), 256u);
  EXPECT_TRUE(parse_path(p256, PathKind::Forward, false).ok());
  const std::string p257 = std::string("<") + repeat('a', 64) + "@" + domain_of(190) + ">";
  EXPECT_EQ(parse_path(p257, PathKind::Forward, false).error, AddressError::PathTooLong);
}

TEST(smtp_AddressParser, ConsumedStopsAtClosingBracket) {
  auto r = parse_path("<a@b.example> SIZE=10", PathKind::Reverse, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.consumed, 13u);
  EXPECT_EQ(r.path.local_part, "a");
  EXPECT_EQ(r.path.domain, "b.example");
}

TEST(smtp_AddressParser, AddressLiterals) {
  EXPECT_TRUE(is_valid_address_literal("[127.0.0.1]"));
  EXPECT_TRUE(is_valid_address_literal("[IPv6:::ffff:192.0.2.1]"));
  EXPECT_FALSE(is_valid_address_literal("[1.2.3]"));
  EXPECT_FALSE(is_valid_address_literal("[IPv6:zz::1]"));
  EXPECT_FALSE(is_valid_address_literal("[]"));
  EXPECT_FALSE(is_valid_address_literal("[:x]"));
}

}  // namespace
