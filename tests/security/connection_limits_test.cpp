// Per-IP connection limits and trusted clients: max_connections_per_ip keeps one stranger from
// taking every session, but local applications in the listener's relay networks are not limited
// like strangers (unless limit_relay_networks = true); max_connections applies to everyone.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "SecurityDaemon.hpp"

namespace ferry {
namespace {

constexpr int kSessions = 60;  // more than the default max_connections_per_ip (50)

const std::string kRoute = "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n";

std::string listener(const std::string& relay_networks = "") {
  return "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n" +
         (relay_networks.empty() ? "" : "relay_networks = " + relay_networks + "\n");
}

// Opens kSessions connections at once and returns how many were greeted with 220 (the others get
// 421 4.7.0 and are counted in `refused`).
int open_sessions(int port, std::vector<std::unique_ptr<test::RawSmtp>>& sessions, int& refused) {
  int greeted = 0;
  refused = 0;
  for (int i = 0; i < kSessions; ++i) sessions.push_back(std::make_unique<test::RawSmtp>(port));
  for (auto& s : sessions) {
    if (!s->connected()) continue;
    const std::string r = s->reply(15000);
    if (r.starts_with("220 "))
      ++greeted;
    else if (r.starts_with("421 4.7.0"))
      ++refused;
  }
  return greeted;
}

TEST(connectionLimits, SixtySessionsFromARelayNetworkAreServed) {
  test::SecurityDaemon ferry(listener() + kRoute);  // default [relay] networks include 127.0.0.0/8
  ASSERT_TRUE(ferry.ready) << ferry.log();
  std::vector<std::unique_ptr<test::RawSmtp>> sessions;
  int refused = 0;
  EXPECT_EQ(open_sessions(ferry.port(), sessions, refused), kSessions) << ferry.log();
  EXPECT_EQ(refused, 0);
  // Every one of them is a working session, not just a greeting.
  int served = 0;
  for (auto& s : sessions)
    if (s->cmd("EHLO app.test").starts_with("250")) ++served;
  EXPECT_EQ(served, kSessions);
  EXPECT_EQ(ferry.log().find("reject: connect"), std::string::npos) << ferry.log();
}

TEST(connectionLimits, StrangersAreStillLimitedPerIp) {
  // The same client outside the listener's relay networks: a stranger, limited to 50.
  test::SecurityDaemon ferry(listener("[\"192.0.2.0/24\"]") + kRoute);
  ASSERT_TRUE(ferry.ready) << ferry.log();
  std::vector<std::unique_ptr<test::RawSmtp>> sessions;
  int refused = 0;
  EXPECT_EQ(open_sessions(ferry.port(), sessions, refused), 50) << ferry.log();
  EXPECT_EQ(refused, kSessions - 50);
}

TEST(connectionLimits, LimitRelayNetworksAppliesTheLimitToThemToo) {
  test::SecurityDaemon ferry(listener() + kRoute + "[smtp]\nlimit_relay_networks = true\n");
  ASSERT_TRUE(ferry.ready) << ferry.log();
  std::vector<std::unique_ptr<test::RawSmtp>> sessions;
  int refused = 0;
  EXPECT_EQ(open_sessions(ferry.port(), sessions, refused), 50) << ferry.log();
  EXPECT_EQ(refused, kSessions - 50);
}

TEST(connectionLimits, MaxConnectionsStillAppliesToRelayNetworks) {
  test::SecurityDaemon ferry(listener() + kRoute +
                             "[smtp]\nmax_connections = 55\nmax_connections_per_ip = 10\n");
  ASSERT_TRUE(ferry.ready) << ferry.log();
  std::vector<std::unique_ptr<test::RawSmtp>> sessions;
  int refused = 0;
  EXPECT_EQ(open_sessions(ferry.port(), sessions, refused), 55) << ferry.log();
  EXPECT_EQ(refused, kSessions - 55);
}

}  // namespace
}  // namespace ferry
