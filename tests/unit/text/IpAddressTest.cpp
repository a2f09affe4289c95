// IpAddress: the one IP text parser (IPv4 without leading zeros, IPv6 RFC 4291 §2.2) and printer.
#include <gtest/gtest.h>

#include "ferry/text/IpAddress.hpp"

using ferry::text::IpAddress;

struct IpCase {
  const char* text;
  const char* canonical;  // nullptr = invalid
  bool v4;
};
class text_IpParse : public ::testing::TestWithParam<IpCase> {};
TEST_P(text_IpParse, Parses) {
  auto ip = IpAddress::parse(GetParam().text);
  if (!GetParam().canonical) {
    EXPECT_FALSE(ip) << GetParam().text;
    EXPECT_FALSE(IpAddress::parse_scoped(GetParam().text)) << GetParam().text;
    return;
  }
  ASSERT_TRUE(ip) << GetParam().text;
  EXPECT_EQ(ip->str(), GetParam().canonical);
  EXPECT_EQ(ip->v4, GetParam().v4);
  EXPECT_EQ(IpAddress::parse_scoped(GetParam().text), ip);
}
INSTANTIATE_TEST_SUITE_P(
    Table, text_IpParse,
    ::testing::Values(
        IpCase{"192.0.2.1", "192.0.2.1", true}, IpCase{"0.0.0.0", "0.0.0.0", true},
        IpCase{"127.0.0.1", "127.0.0.1", true}, IpCase{"255.255.255.255", "255.255.255.255", true},
        IpCase{"10.0.100.1", "10.0.100.1", true},
        // Leading zeros are refused everywhere (some stacks read "010" as octal 8).
        IpCase{"01.2.3.4", nullptr, true}, IpCase{"010.0.0.1", nullptr, true},
        IpCase{"1.2.3.04", nullptr, true}, IpCase{"1.2.3.00", nullptr, true},
        IpCase{"::ffff:01.2.3.4", nullptr, false}, IpCase{"1.2.3.04444", nullptr, true},
        IpCase{"01.2.3.4x", nullptr, true}, IpCase{"256.1.1.1", nullptr, true},
        IpCase{"1.2.3", nullptr, true}, IpCase{"1.2.3.4.5", nullptr, true}, IpCase{"1.2.3.4 ", nullptr, true},
        IpCase{" 1.2.3.4", nullptr, true}, IpCase{"a.b.c.d", nullptr, true}, IpCase{"1..2.3", nullptr, true},
        IpCase{"", nullptr, true}, IpCase{"1.2.3.4/8", nullptr, true}, IpCase{"::", "::", false},
        IpCase{"::1", "::1", false}, IpCase{"1::", "1::", false}, IpCase{"2001:DB8::1", "2001:db8::1", false},
        IpCase{"2001:db8:0:0:0:0:0:1", "2001:db8::1", false},
        IpCase{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", false},
        IpCase{"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", false},
        IpCase{"1:0:0:2:0:0:0:3", "1:0:0:2::3", false}, IpCase{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7", false},
        IpCase{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", false},
        IpCase{"1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8", false},
        IpCase{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", false},
        IpCase{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", false}, IpCase{"::ffff:192.0.2.1", "192.0.2.1", true},
        IpCase{"64:ff9b::192.0.2.1", "64:ff9b::c000:201", false}, IpCase{"1:2:3:4:5:6:7", nullptr, false},
        IpCase{"1:2:3:4:5:6:7:8:9", nullptr, false}, IpCase{"1::2::3", nullptr, false},
        IpCase{":::", nullptr, false}, IpCase{":1::2", nullptr, false}, IpCase{"1:", nullptr, false},
        IpCase{"1::2:", nullptr, false}, IpCase{"12345::1", nullptr, false}, IpCase{"g::1", nullptr, false},
        IpCase{"::1.2.3", nullptr, false}, IpCase{"1.2.3.4::", nullptr, false},
        IpCase{"1:2:3:4:5:6:7:1.2.3.4", nullptr, false}, IpCase{"::1.2.3.4:5", nullptr, false}));

TEST(text_IpAddress, ZoneOnlyWithParseScoped) {
  EXPECT_FALSE(IpAddress::parse("fe80::1%eth0"));
  ASSERT_TRUE(IpAddress::parse_scoped("fe80::1%eth0"));
  EXPECT_EQ(IpAddress::parse_scoped("fe80::1%eth0")->str(), "fe80::1");
  EXPECT_FALSE(IpAddress::parse_scoped("1.2.3.4%eth0"));
}

TEST(text_IpAddress, EquivalentSpellingsAreEqual) {
  EXPECT_EQ(*IpAddress::parse("2001:db8::1"), *IpAddress::parse("2001:DB8:0:0:0:0:0:1"));
  EXPECT_EQ(*IpAddress::parse("::1"), *IpAddress::parse("0:0:0:0:0:0:0:1"));
  EXPECT_EQ(*IpAddress::parse("::ffff:10.0.0.1"), *IpAddress::parse("10.0.0.1"));
  EXPECT_EQ(*IpAddress::parse("::ffff:10.0.0.1"), *IpAddress::parse("::ffff:a00:1"));
  EXPECT_TRUE(IpAddress::parse("::ffff:10.0.0.1")->v4);
  EXPECT_NE(*IpAddress::parse("::1"), *IpAddress::parse("127.0.0.1"));
}

TEST(text_IpAddress, LoopbackAndUnspecified) {
  EXPECT_TRUE(IpAddress::parse("127.9.9.9")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_FALSE(IpAddress::parse("::2")->is_loopback());
  EXPECT_FALSE(IpAddress::parse("128.0.0.1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::")->is_unspecified());
  EXPECT_TRUE(IpAddress::parse("0.0.0.0")->is_unspecified());
  EXPECT_FALSE(IpAddress::parse("0.0.0.1")->is_unspecified());
  EXPECT_FALSE(IpAddress::parse("::1")->is_unspecified());
}

// str_v6 writes what inet_ntop(3) writes, so configured IPv6 addresses render as before.
TEST(text_IpAddress, StrV6AsInetNtop) {
  const std::pair<const char*, const char*> cases[] = {
      {"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
      {"127.0.0.1", "::ffff:127.0.0.1"},
      {"::1.2.3.4", "::1.2.3.4"},
      {"::1", "::1"},
      {"::", "::"},
      {"::ffff:0:0", "::ffff:0.0.0.0"},
      {"2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"1:0:0:0:1:0:0:0", "1::1:0:0:0"},
      {"fe80::abcd:ef01", "fe80::abcd:ef01"},
      {"0:0:1:0:0:0:0:0", "0:0:1::"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(IpAddress::parse(in)->str_v6(), want) << in;
}
