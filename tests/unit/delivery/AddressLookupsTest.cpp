// AddressLookups: parallel A/AAAA lookups of the MX hosts stop as soon as the answered hosts, in
// MX order without a gap, give max_addresses targets; table-driven.
#include "mta/delivery/AddressLookups.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ferry::delivery;

namespace {

std::vector<MxHost> hosts(std::size_t n) {
  std::vector<MxHost> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({"h" + std::to_string(i) + ".test", static_cast<std::uint16_t>(10 * i)});
  return out;
}

HostAddresses v4(std::size_t host, std::vector<std::string> ips) {
  HostAddresses a;
  a.host = "h" + std::to_string(host) + ".test";
  a.a_status = ips.empty() ? DnsStatus::NoData : DnsStatus::Ok;
  a.ipv4 = std::move(ips);
  return a;
}

std::vector<std::string> ips_of(const AddressLookups& l) {
  std::vector<std::string> out;
  auto t = l.targets();
  if (t)
    for (const auto& x : *t) out.push_back(x.ip);
  return out;
}

struct Case {
  const char* name;
  std::size_t hosts, max_addresses;
  // answers in arrival order: host index and its addresses
  std::vector<std::pair<std::size_t, std::vector<std::string>>> answers;
  bool done;
  std::vector<std::string> targets;
};

TEST(deliveryAddressLookups, Table) {
  const std::vector<Case> cases = {
      {"nothing answered", 3, 5, {}, false, {}},
      {"best host answers, max 1", 50, 1, {{0, {"192.0.2.1"}}}, true, {"192.0.2.1"}},
      {"a later host's answer does not fill a gap", 50, 1, {{1, {"192.0.2.2"}}}, false, {}},
      {"gap filled", 50, 1, {{1, {"192.0.2.2"}}, {0, {"192.0.2.1"}}}, true, {"192.0.2.1"}},
      {"two hosts enough for max 2",
       50,
       2,
       {{0, {"192.0.2.1"}}, {1, {"192.0.2.2"}}},
       true,
       {"192.0.2.1", "192.0.2.2"}},
      {"one host with many addresses",
       50,
       2,
       {{0, {"192.0.2.1", "192.0.2.9", "192.0.2.8"}}},
       true,
       {"192.0.2.1", "192.0.2.9"}},
      {"no-data host counts nothing", 50, 1, {{0, {}}}, false, {}},
      {"no-data then a usable host", 50, 1, {{0, {}}, {1, {"192.0.2.2"}}}, true, {"192.0.2.2"}},
      {"every host answered, fewer than max",
       2,
       5,
       {{1, {"192.0.2.2"}}, {0, {"192.0.2.1"}}},
       true,
       {"192.0.2.1", "192.0.2.2"}},
      {"duplicates count once", 50, 2, {{0, {"192.0.2.1"}}, {1, {"192.0.2.1"}}}, false, {"192.0.2.1"}},
  };
  for (const auto& c : cases) {
    MxPlanOptions options;
    options.max_addresses = c.max_addresses;
    AddressLookups l(hosts(c.hosts), options);
    for (const auto& [i, ips] : c.answers) l.answer(i, v4(i, ips));
    EXPECT_EQ(l.done(), c.done) << c.name;
    if (c.done) {
      EXPECT_EQ(ips_of(l), c.targets) << c.name;
    }
  }
}

TEST(deliveryAddressLookups, AllFailedIsTheTemporaryErrorOfPlanTargets) {
  MxPlanOptions options;
  AddressLookups l(hosts(2), options);
  for (std::size_t i = 0; i < 2; ++i) {
    HostAddresses a = v4(i, {});
    a.a_status = DnsStatus::TempFail;
    a.aaaa_status = DnsStatus::TempFail;
    l.answer(i, a);
  }
  ASSERT_TRUE(l.done());
  auto t = l.targets();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, NetworkErrorKind::DnsTemporary);
}

TEST(deliveryAddressLookups, AHostileListIsCut) {
  MxPlanOptions options;
  options.max_addresses = 5;
  AddressLookups l(hosts(5000), options);
  EXPECT_EQ(l.hosts().size(), 20u);
  options.max_addresses = 10;
  EXPECT_EQ(AddressLookups(hosts(5000), options).hosts().size(), 40u);
  EXPECT_EQ(AddressLookups(hosts(3), options).hosts().size(), 3u);
}

TEST(deliveryAddressLookups, SecondAnswerForAHostIsIgnored) {
  MxPlanOptions options;
  options.max_addresses = 1;
  AddressLookups l(hosts(2), options);
  l.answer(0, v4(0, {}));
  l.answer(0, v4(0, {"192.0.2.1"}));
  EXPECT_FALSE(l.done());
}

}  // namespace
