// AuthFailureTracker: keys per IPv4 address and IPv6 /64, five failures in ten minutes block AUTH
// for ten minutes, old failures age out, and the table stays bounded under many addresses.
#include <gtest/gtest.h>

#include "mta/inbound/AuthFailureTracker.hpp"

namespace ferry::inbound {
namespace {

using namespace std::chrono_literals;
using Clock = AuthFailureTracker::Clock;

TEST(authFailureTracker, KeysAreIpv4AddressesAndIpv6Slash64s) {
  EXPECT_EQ(auth_client_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(auth_client_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(auth_client_key("2001:db8:1:2:aaaa::1"), "2001:0db8:0001:0002::/64");
  EXPECT_EQ(auth_client_key("2001:db8:1:2:bbbb:cccc:dddd:eeee"), auth_client_key("2001:db8:1:2::9"));
  EXPECT_NE(auth_client_key("2001:db8:1:3::1"), auth_client_key("2001:db8:1:2::1"));
  EXPECT_EQ(auth_client_key("not an ip"), "not an ip");
}

TEST(authFailureTracker, FiveFailuresInTenMinutesBlockForTenMinutes) {
  AuthFailureTracker t;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(t.failed("192.0.2.7", t0 + i * 1min));
  EXPECT_FALSE(t.blocked("192.0.2.7", t0 + 4min));
  EXPECT_TRUE(t.failed("192.0.2.7", t0 + 5min)) << "the fifth failure starts the block";
  EXPECT_TRUE(t.blocked("192.0.2.7", t0 + 5min));
  EXPECT_TRUE(t.blocked("192.0.2.7", t0 + 14min));
  EXPECT_FALSE(t.blocked("192.0.2.8", t0 + 5min)) << "another address is not blocked";
  EXPECT_FALSE(t.blocked("192.0.2.7", t0 + 15min)) << "over after ten minutes";
  EXPECT_FALSE(t.failed("192.0.2.7", t0 + 16min)) << "a new series starts from nothing";
}

TEST(authFailureTracker, FailuresOlderThanTheWindowDoNotCount) {
  AuthFailureTracker t;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(t.failed("k", t0 + i * 3min)) << i;  // never 5 within 10 min
  EXPECT_FALSE(t.blocked("k", t0 + 30min));
}

TEST(authFailureTracker, TableIsBoundedAndForgetsTheLeastRecentlySeen) {
  AuthFailureTracker::Limits limits;
  limits.max_entries = 100;
  AuthFailureTracker t(limits);
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) t.failed("attacker", t0 + i * 1s);
  ASSERT_TRUE(t.blocked("attacker", t0 + 5s));
  for (int i = 0; i < 99; ++i) t.failed("other" + std::to_string(i), t0 + 10s);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_TRUE(t.blocked("attacker", t0 + 10s));
  for (int i = 0; i < 10000; ++i) t.failed("spray" + std::to_string(i), t0 + 20s);
  EXPECT_EQ(t.size(), 100u) << "many addresses cannot grow the table";
  EXPECT_FALSE(t.blocked("attacker", t0 + 20s)) << "the oldest entry was forgotten";
}

}  // namespace
}  // namespace ferry::inbound
