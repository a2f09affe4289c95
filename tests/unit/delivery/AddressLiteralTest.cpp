// AddressLiteral: RFC 5321 §4.1.3 literals as delivery targets (the address text itself is
// table-tested with text::IpAddress).
#include "mta/delivery/AddressLiteral.hpp"

#include <gtest/gtest.h>

using namespace ferry::delivery;

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
    ::testing::Values(LiteralCase{"[192.0.2.1]", "192.0.2.1"},
                      LiteralCase{"[IPv6:2001:db8::1]", "2001:db8::1"}, LiteralCase{"[ipv6:::1]", "::1"},
                      LiteralCase{"[2001:db8::1]", nullptr}, LiteralCase{"[IPv6:192.0.2.1]", nullptr},
                      LiteralCase{"[x-foo:bar]", nullptr}, LiteralCase{"192.0.2.1", nullptr},
                      LiteralCase{"[192.0.2.1", nullptr}, LiteralCase{"[]", nullptr},
                      LiteralCase{"[IPv6:fe80::1%eth0]", nullptr}, LiteralCase{"example.org", nullptr},
                      LiteralCase{"[010.0.0.1]", nullptr},
                      LiteralCase{"[IPv6:::ffff:192.0.2.1]", "192.0.2.1"}));

TEST(deliveryIpAddr, LooksLikeLiteral) {
  EXPECT_TRUE(looks_like_address_literal("[x]"));
  EXPECT_FALSE(looks_like_address_literal("x"));
}
