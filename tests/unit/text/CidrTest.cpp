// Cidr: the one network type, used by the relay policy of the daemon and by the transcripts.
#include <gtest/gtest.h>

#include <vector>

#include "ferry/text/Cidr.hpp"

using ferry::text::any_contains;
using ferry::text::Cidr;
using ferry::text::IpAddress;

struct CidrCase {
  const char* network;
  const char* ip;
  bool inside;
};

class text_CidrTable : public ::testing::TestWithParam<CidrCase> {};

TEST_P(text_CidrTable, Contains) {
  const auto& c = GetParam();
  auto net = Cidr::parse(c.network);
  ASSERT_TRUE(net.has_value()) << c.network;
  EXPECT_EQ(net->contains(std::string_view(c.ip)), c.inside) << c.network << " " << c.ip;
}

INSTANTIATE_TEST_SUITE_P(
    Networks, text_CidrTable,
    ::testing::Values(
        CidrCase{"127.0.0.0/8", "127.0.0.1", true}, CidrCase{"127.0.0.0/8", "127.255.1.2", true},
        CidrCase{"127.0.0.0/8", "128.0.0.1", false}, CidrCase{"127.0.0.1", "127.0.0.1", true},
        CidrCase{"127.0.0.1", "127.0.0.2", false}, CidrCase{"192.0.2.0/24", "192.0.2.200", true},
        CidrCase{"192.0.2.0/25", "192.0.2.200", false}, CidrCase{"10.1.2.3/8", "10.200.0.1", true},
        CidrCase{"10.0.0.0/8", "10.255.0.1", true}, CidrCase{"10.0.0.0/8", "11.0.0.1", false},
        CidrCase{"10.0.0.0/8", "::1", false}, CidrCase{"10.0.0.0/8", "::ffff:10.1.1.1", true},
        CidrCase{"0.0.0.0/0", "203.0.113.9", true}, CidrCase{"0.0.0.0/0", "2001:db8::1", false},
        CidrCase{"192.0.2.0/24", "::ffff:192.0.2.7", true},  // IPv4-mapped client
        CidrCase{"::1", "::1", true}, CidrCase{"::1/128", "::2", false},
        CidrCase{"2001:db8::/32", "2001:db8:ffff::1", true}, CidrCase{"2001:DB8::/32", "2001:db8:1::5", true},
        CidrCase{"2001:db8::/32", "2001:db9::1", false}, CidrCase{"fe80::/10", "febf::1", true},
        CidrCase{"fe80::/10", "fec0::1", false}, CidrCase{"::/0", "2001:db8::1", true},
        CidrCase{"::/0", "192.0.2.1", false},          // an IPv6 network never holds IPv4
        CidrCase{"::/0", "::ffff:192.0.2.1", false},   // nor a mapped IPv4 client
        CidrCase{"fe80::/10", "fe80::1%eth0", false},  // a zone is not an address
        CidrCase{"10.0.0.0/8", "010.0.0.1", false},    // nor a leading zero
        CidrCase{"127.0.0.0/8", "not an ip", false}, CidrCase{"2001:db8::/33", "2001:db8:8000::", false}));

TEST(text_Cidr, RejectsBadNetworks) {
  for (const char* bad : {"", "/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8",
                          "::1/1000", "010.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/8/8", "fe80::%eth0/10"})
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
}

TEST(text_Cidr, TextAndHostBits) {
  EXPECT_EQ(Cidr::parse("10.0.0.0/8")->str(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::parse("10.1.2.3/8")->str(), "10.0.0.0/8");  // host bits cleared
  EXPECT_EQ(Cidr::parse("192.0.2.1")->str(), "192.0.2.1/32");
  EXPECT_EQ(Cidr::parse("2001:DB8::/32")->str(), "2001:db8::/32");
  EXPECT_EQ(Cidr::parse("::1")->str(), "::1/128");
  EXPECT_EQ(Cidr::parse("::ffff:10.0.0.0/104")->str(), "::ffff:10.0.0.0/104");
  EXPECT_EQ(Cidr::parse("10.1.2.3/8"), Cidr::parse("10.0.0.0/8"));
  EXPECT_NE(Cidr::parse("10.0.0.0/8"), Cidr::parse("10.0.0.0/9"));
  EXPECT_TRUE(Cidr::parse("10.0.0.0/8")->is_v4());
  EXPECT_EQ(Cidr::parse("10.0.0.0/8")->prefix(), 8u);
  const auto ip = *IpAddress::parse("10.1.2.3");
  EXPECT_NE(Cidr::of(ip, 8, true).network(), ip);
  EXPECT_EQ(Cidr::of(ip, 32, true).network(), ip);
}

TEST(text_Cidr, AnyContains) {
  std::vector<Cidr> nets{*Cidr::parse("127.0.0.0/8"), *Cidr::parse("::1")};
  EXPECT_TRUE(any_contains(nets, "127.0.0.1"));
  EXPECT_TRUE(any_contains(nets, "::1"));
  EXPECT_FALSE(any_contains(nets, "192.0.2.1"));
  EXPECT_FALSE(any_contains({}, "127.0.0.1"));
}
