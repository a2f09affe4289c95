// IpAddress and Cidr: IPv4 / IPv6 parsing and network matching for relay networks.
#include <gtest/gtest.h>

#include <vector>

#include "mta/smtp/Cidr.hpp"

using namespace ferry::smtp;

TEST(smtp_IpAddress, ParsesValidForms) {
  for (const char* ok : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "::", "::1", "1::", "2001:db8::1",
                         "2001:0db8:0000:0000:0000:0000:0000:0001", "::ffff:192.0.2.1", "fe80::1%eth0",
                         "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "::2:3:4:5:6:7:8"})
    EXPECT_TRUE(IpAddress::parse(ok).has_value()) << ok;
}

TEST(smtp_IpAddress, RejectsInvalidForms) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.04444", "01.2.3.4x", "a.b.c.d",
                          ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::1", "1:2:3:4:5:6:7", ":1::2",
                          "1:", "g::1", "::1.2.3", "1.2.3.4::"})
    EXPECT_FALSE(IpAddress::parse(bad).has_value()) << bad;
}

TEST(smtp_IpAddress, EquivalentSpellingsAreEqual) {
  EXPECT_EQ(*IpAddress::parse("2001:db8::1"), *IpAddress::parse("2001:DB8:0:0:0:0:0:1"));
  EXPECT_EQ(*IpAddress::parse("::ffff:10.0.0.1"), *IpAddress::parse("10.0.0.1"));
  EXPECT_TRUE(IpAddress::parse("::ffff:10.0.0.1")->v4);
}

struct CidrCase {
  const char* network;
  const char* ip;
  bool inside;
};

class smtp_CidrTable : public ::testing::TestWithParam<CidrCase> {};

TEST_P(smtp_CidrTable, Contains) {
  const auto& c = GetParam();
  auto net = Cidr::parse(c.network);
  ASSERT_TRUE(net.has_value()) << c.network;
  EXPECT_EQ(net->contains(std::string_view(c.ip)), c.inside) << c.network << " " << c.ip;
}

INSTANTIATE_TEST_SUITE_P(
    Networks, smtp_CidrTable,
    ::testing::Values(CidrCase{"127.0.0.0/8", "127.0.0.1", true}, CidrCase{"127.0.0.0/8", "127.255.1.2", true},
                      CidrCase{"127.0.0.0/8", "128.0.0.1", false}, CidrCase{"127.0.0.1", "127.0.0.1", true},
                      CidrCase{"127.0.0.1", "127.0.0.2", false}, CidrCase{"192.0.2.0/24", "192.0.2.200", true},
                      CidrCase{"192.0.2.0/25", "192.0.2.200", false}, CidrCase{"10.1.2.3/8", "10.200.0.1", true},
                      CidrCase{"0.0.0.0/0", "203.0.113.9", true}, CidrCase{"0.0.0.0/0", "2001:db8::1", false},
                      CidrCase{"192.0.2.0/24", "::ffff:192.0.2.7", true},  // IPv4-mapped client
                      CidrCase{"::1", "::1", true}, CidrCase{"::1/128", "::2", false},
                      CidrCase{"2001:db8::/32", "2001:db8:ffff::1", true},
                      CidrCase{"2001:db8::/32", "2001:db9::1", false}, CidrCase{"fe80::/10", "febf::1", true},
                      CidrCase{"fe80::/10", "fec0::1", false}, CidrCase{"::/0", "2001:db8::1", true},
                      CidrCase{"127.0.0.0/8", "not an ip", false}, CidrCase{"2001:db8::/33", "2001:db8:8000::", false}));

TEST(smtp_Cidr, RejectsBadNetworks) {
  for (const char* bad : {"", "/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "::1/1000"})
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
}

TEST(smtp_Cidr, AnyContains) {
  std::vector<Cidr> nets{*Cidr::parse("127.0.0.0/8"), *Cidr::parse("::1")};
  EXPECT_TRUE(any_contains(nets, "127.0.0.1"));
  EXPECT_TRUE(any_contains(nets, "::1"));
  EXPECT_FALSE(any_contains(nets, "192.0.2.1"));
  EXPECT_FALSE(any_contains({}, "127.0.0.1"));
}
