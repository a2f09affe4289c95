// Value grammars: durations, sizes, CIDRs (table tests).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "mta/config/Config.hpp"

namespace ferry::config {
namespace {

using namespace std::chrono_literals;

TEST(configDuration, ParsesUnitsAndBareSeconds) {
  const struct {
    const char* text;
    std::optional<Duration> want;
  } cases[] = {
      {"250ms", 250ms},
      {"30s", 30s},
      {"5m", 5min},
      {"1h", 1h},
      {"5d", 120h},
      {"0", 0ms},
      {"30", 30s},
      {"0s", 0ms},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"5x", std::nullopt},
      {"-5s", std::nullopt},
      {"1.5h", std::nullopt},
      {"5 m", std::nullopt},
      {"5M", std::nullopt},
      {"1h30m", std::nullopt},
      {"99999999999999999999d", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_duration(c.text), c.want) << c.text;
}

TEST(configSize, ParsesBinaryAndDecimalUnits) {
  const struct {
    const char* text;
    std::optional<std::uint64_t> want;
  } cases[] = {
      {"1024", 1024},
      {"0", 0},
      {"512KiB", 512ull << 10},
      {"25MiB", 25ull << 20},
      {"1GiB", 1ull << 30},
      {"2TiB", 2ull << 40},
      {"100MB", 100'000'000},
      {"1KB", 1000},
      {"3GB", 3'000'000'000},
      {"10B", 10},
      {"25mib", 25ull << 20},
      {"", std::nullopt},
      {"MiB", std::nullopt},
      {"1.5GiB", std::nullopt},
      {"12QB", std::nullopt},
      {"-1", std::nullopt},
      {"99999999999TiB", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_size(c.text), c.want) << c.text;
}

TEST(configCidr, ParsesAndContains) {
  auto v4 = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->str(), "10.0.0.0/8");
  EXPECT_TRUE(v4->contains("10.255.0.1"));
  EXPECT_TRUE(v4->contains("::ffff:10.1.1.1"));  // IPv4-mapped
  EXPECT_FALSE(v4->contains("11.0.0.1"));
  EXPECT_FALSE(v4->contains("::1"));
  EXPECT_FALSE(v4->contains("not-an-ip"));

  auto v6 = parse_cidr("2001:DB8::/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->str(), "2001:db8::/32");
  EXPECT_TRUE(v6->contains("2001:db8:1::5"));
  EXPECT_FALSE(v6->contains("2001:db9::5"));

  auto host = parse_cidr("192.0.2.1");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->str(), "192.0.2.1/32");
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains("203.0.113.9"));
  EXPECT_TRUE(parse_cidr("::/0")->contains("2001:db8::1"));
  EXPECT_EQ(parse_cidr("10.0.0.1/8"), std::nullopt);  // host bits set
  EXPECT_EQ(parse_cidr("10.0.0.0/33"), std::nullopt);
  EXPECT_EQ(parse_cidr("::/129"), std::nullopt);
  EXPECT_EQ(parse_cidr("10.0.0.0/"), std::nullopt);
  EXPECT_EQ(parse_cidr("example.com/8"), std::nullopt);
  // The written family stays: an IPv6-written mapped network keeps its IPv6 text and range.
  EXPECT_EQ(parse_cidr("::ffff:10.0.0.0/104")->str(), "::ffff:10.0.0.0/104");
  EXPECT_EQ(parse_cidr("010.0.0.0/8"), std::nullopt);       // a leading zero (octal to some stacks)
  EXPECT_FALSE(parse_cidr("::/0")->contains("192.0.2.1"));  // an IPv6 network holds no IPv4 client
}

TEST(configErrorText, StrLeavesOutUnknownParts) {
  EXPECT_EQ((ConfigError{"f.toml", 3, 7, "listen[0].port", "bad"}).str(), "f.toml:3:7: listen[0].port: bad");
  EXPECT_EQ((ConfigError{"f.toml", 3, 0, "", "bad"}).str(), "f.toml:3: bad");
  EXPECT_EQ((ConfigError{"f.toml", 0, 0, "", "bad"}).str(), "f.toml: bad");
  EXPECT_EQ((ConfigError{"", 0, 0, "user", "bad"}).str(), "user: bad");
  EXPECT_EQ((ConfigError{"", 0, 0, "", "bad"}).str(), "bad");
}

}  // namespace
}  // namespace ferry::config
