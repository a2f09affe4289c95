// AddressLiteral: strict IPv4/IPv6 parsing, canonical text, RFC 5321 §4.1.3 literals.
#include "mta/delivery/AddressLiteral.hpp"

#include <gtest/gtest.h>

using namespace ferry::delivery;

struct IpCase {
  const char* text;
  const char* canonical;  // nullptr = invalid
  bool v6;
};
class IpParse : public ::testing::TestWithParam<IpCase> {};
TEST_P(IpParse, Parses) {
  auto ip = IpAddr::parse(GetParam().text);
  if (!GetParam().canonical) {
    EXPECT_FALSE(ip) << GetParam().text;
    return;
  }
  ASSERT_TRUE(ip) << GetParam().text;
  EXPECT_EQ(ip->str(), GetParam().canonical);
  EXPECT_EQ(ip->v6, GetParam().v6);
}
INSTANTIATE_TEST_SUITE_P(
    deliveryTable, IpParse,
    ::testing::Values(IpCase{"192.0.2.1", "192.0.2.1", false}, IpCase{"0.0.0.0", "0.0.0.0", false},
                      IpCase{"255.255.255.255", "255.255.255.255", false}, IpCase{"256.1.1.1", nullptr, false},
                      IpCase{"1.2.3", nullptr, false}, IpCase{"1.2.3.4.5", nullptr, false},
                      IpCase{"01.2.3.4", nullptr, false}, IpCase{"1.2.3.4 ", nullptr, false},
                      IpCase{"", nullptr, false}, IpCase{"::", "::", true}, IpCase{"::1", "::1", true},
                      IpCase{"2001:DB8::1", "2001:db8::1", true}, IpCase{"2001:db8:0:0:0:0:0:1", "2001:db8::1", true},
                      IpCase{"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", true},
                      IpCase{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", true}, IpCase{"1:2:3:4:5:6:7", nullptr, true},
                      IpCase{"1:2:3:4:5:6:7:8:9", nullptr, true}, IpCase{"1::2::3", nullptr, true},
                      IpCase{":1::2", nullptr, true}, IpCase{"1::2:", nullptr, true}, IpCase{"12345::1", nullptr, true},
                      IpCase{"g::1", nullptr, true}, IpCase{"::ffff:192.0.2.1", "192.0.2.1", false},
                      IpCase{"64:ff9b::192.0.2.1", "64:ff9b::c000:201", true}, IpCase{"fe80::1%eth0", "fe80::1", true},
                      IpCase{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", true}, IpCase{"::1.2.3", nullptr, true}));

struct LiteralCase {
  const char* domain;
  const char* ip;  // nullptr = not a deliverable literal
};
class Literal : public ::testing::TestWithParam<LiteralCase> {};
TEST_P(Literal, Parses) {
  auto ip = parse_address_literal(GetParam().domain);
  if (!GetParam().ip) {
    EXPECT_FALSE(ip) << GetParam().domain;
  } else {
    ASSERT_TRUE(ip) << GetParam().domain;
    EXPECT_EQ(ip->str(), GetParam().ip);
  }
}
INSTANTIATE_TEST_SUITE_P(
    deliveryTable, Literal,
    ::testing::Values(LiteralCase{"[192.0.2.1]", "192.0.2.1"}, LiteralCase{"[IPv6:2001:db8::1]", "2001:db8::1"},
                      LiteralCase{"[ipv6:::1]", "::1"}, LiteralCase{"[2001:db8::1]", nullptr},
                      LiteralCase{"[IPv6:192.0.2.1]", nullptr}, LiteralCase{"[x-foo:bar]", nullptr},
                      LiteralCase{"192.0.2.1", nullptr}, LiteralCase{"[192.0.2.1", nullptr},
                      LiteralCase{"[]", nullptr}, LiteralCase{"[IPv6:fe80::1%eth0]", nullptr},
                      LiteralCase{"example.org", nullptr}));

TEST(deliveryIpAddr, EqualityIgnoresSpelling) {
  EXPECT_EQ(*IpAddr::parse("::1"), *IpAddr::parse("0:0:0:0:0:0:0:1"));
  EXPECT_EQ(*IpAddr::parse("::ffff:10.0.0.1"), *IpAddr::parse("10.0.0.1"));
  EXPECT_NE(*IpAddr::parse("::1"), *IpAddr::parse("127.0.0.1"));
  EXPECT_TRUE(IpAddr::parse("127.9.9.9")->is_loopback());
  EXPECT_TRUE(IpAddr::parse("::1")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("::2")->is_loopback());
  EXPECT_TRUE(IpAddr::parse("::")->is_unspecified());
  EXPECT_TRUE(looks_like_address_literal("[x]"));
  EXPECT_FALSE(looks_like_address_literal("x"));
}
