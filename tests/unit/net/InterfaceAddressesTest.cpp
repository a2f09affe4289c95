// InterfaceAddresses: a getifaddrs list to address strings, and those addresses as "ourselves"
// behind a wildcard listener (mail loops through a non-loopback interface address, 5.4.6).
#include "mta/net/InterfaceAddresses.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <deque>

#include "mta/delivery/MxPlan.hpp"

namespace ferry::net {
namespace {

// A fake interface list: what getifaddrs returns on a host with eth0 and a tunnel.
struct FakeInterfaces {
  std::deque<sockaddr_in> v4;
  std::deque<sockaddr_in6> v6;
  std::deque<sockaddr> other;
  std::deque<ifaddrs> nodes;
  void add(const char* name, sockaddr* addr) {
    ifaddrs node{};
    node.ifa_name = const_cast<char*>(name);
    node.ifa_addr = addr;
    if (!nodes.empty()) nodes.back().ifa_next = nullptr;
    nodes.push_back(node);
    for (std::size_t i = 0; i + 1 < nodes.size(); ++i) nodes[i].ifa_next = &nodes[i + 1];
  }
  void add4(const char* name, const char* ip) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    v4.push_back(a);
    add(name, reinterpret_cast<sockaddr*>(&v4.back()));
  }
  void add6(const char* name, const char* ip) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    v6.push_back(a);
    add(name, reinterpret_cast<sockaddr*>(&v6.back()));
  }
  const ifaddrs* list() const { return nodes.empty() ? nullptr : &nodes.front(); }
};

TEST(InterfaceAddresses, FakeListGivesEveryIpAddressOnce) {
  FakeInterfaces f;
  f.add4("lo", "127.0.0.1");
  f.other.push_back(sockaddr{});
  f.other.back().sa_family = AF_PACKET;
  f.add("eth0", &f.other.back());  // link-layer entry: no IP
  f.add("tun0", nullptr);          // no address at all
  f.add4("eth0", "192.0.2.10");
  f.add6("eth0", "2001:db8::5");
  f.add4("eth0:1", "192.0.2.10");  // the same address twice
  EXPECT_EQ(addresses_of(f.list()), (std::vector<std::string>{"127.0.0.1", "192.0.2.10", "2001:db8::5"}));
  EXPECT_TRUE(addresses_of(nullptr).empty());
}

// The point of the list: with a wildcard listener on port 25, an MX that resolves to one of our
// non-loopback interface addresses is ourselves; the same address on another port, or a
// listener bound to one specific address, is not.
TEST(InterfaceAddresses, OwnNonLoopbackAddressBehindAWildcardListenerIsALoop) {
  FakeInterfaces f;
  f.add4("lo", "127.0.0.1");
  f.add4("eth0", "192.0.2.10");
  f.add6("eth0", "2001:db8::5");
  const std::vector<std::string> local = addresses_of(f.list());
  const std::vector<delivery::Listener> wildcard{{"0.0.0.0", 25}}, wildcard6{{"::", 25}},
      specific{{"192.0.2.99", 25}};
  EXPECT_TRUE(delivery::is_own_listener("192.0.2.10", 25, wildcard, local));
  EXPECT_FALSE(delivery::is_own_listener("192.0.2.10", 25, wildcard));  // what the agent saw before
  EXPECT_TRUE(delivery::is_own_listener("2001:db8::5", 25, wildcard6, local));
  EXPECT_TRUE(delivery::is_own_listener("192.0.2.10", 25, wildcard6, local));  // "::" takes IPv4 too
  EXPECT_FALSE(delivery::is_own_listener("192.0.2.10", 587, wildcard, local));
  EXPECT_FALSE(delivery::is_own_listener("192.0.2.11", 25, wildcard, local));
  EXPECT_FALSE(delivery::is_own_listener("192.0.2.10", 25, specific, local));
}

// The real list of this machine holds the loopback address at least.
TEST(InterfaceAddresses, ThisMachineHasLoopback) {
  const auto all = interface_addresses();
  EXPECT_NE(std::find(all.begin(), all.end(), "127.0.0.1"), all.end());
}

}  // namespace
}  // namespace ferry::net
