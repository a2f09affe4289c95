// MxPlan: RFC 5321 §5.1 ordering and shuffling, implicit MX, RFC 7505 null MX, DNS failures,
// self-MX pruning, address families and cap, literals, own-listener loop check.
#include "mta/delivery/MxPlan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace ferry::delivery;

namespace {

RandomSource seeded(std::uint64_t seed) {
  auto eng = std::make_shared<std::mt19937_64>(seed);
  return [eng] { return (*eng)(); };
}

MxAnswer mx(std::vector<MxRecord> records) { return MxAnswer{DnsStatus::Ok, std::move(records)}; }

HostAddresses host(std::string name, std::vector<std::string> v6, std::vector<std::string> v4) {
  HostAddresses h;
  h.host = std::move(name);
  h.aaaa_status = v6.empty() ? DnsStatus::NoData : DnsStatus::Ok;
  h.ipv6 = std::move(v6);
  h.a_status = v4.empty() ? DnsStatus::NoData : DnsStatus::Ok;
  h.ipv4 = std::move(v4);
  return h;
}

std::vector<std::string> hosts_of(const ferry::Result<std::vector<MxHost>, NetworkError>& r) {
  std::vector<std::string> out;
  if (!r)
    ADD_FAILURE() << "unexpected error: " << to_string(r.error().kind);
  else
    for (const auto& h : *r) out.push_back(h.host);
  return out;
}

std::vector<std::string> ips_of(const ferry::Result<std::vector<Target>, NetworkError>& r) {
  std::vector<std::string> out;
  if (!r)
    ADD_FAILURE() << "unexpected error: " << to_string(r.error().kind);
  else
    for (const auto& t : *r) out.push_back(t.ip);
  return out;
}

NetworkErrorKind error_of(const auto& r) {
  if (r.ok()) ADD_FAILURE() << "expected an error";
  return r.ok() ? NetworkErrorKind{} : r.error().kind;
}

}  // namespace

TEST(deliveryMxPlan, SortsByPreference) {
  auto r =
      plan_mx_hosts("example.org", mx({{30, "c.example.org"}, {10, "A.Example.Org."}, {20, "b.example.org"}}),
                    {}, seeded(1));
  EXPECT_EQ(hosts_of(r), (std::vector<std::string>{"a.example.org", "b.example.org", "c.example.org"}));
}

TEST(deliveryMxPlan, EqualPreferencesAreShuffledAcrossSeeds) {
  std::set<std::vector<std::string>> orders;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    auto r = plan_mx_hosts("example.org", mx({{20, "z"}, {10, "a"}, {10, "b"}, {10, "c"}}), {}, seeded(seed));
    auto h = hosts_of(r);
    ASSERT_EQ(h.size(), 4u);
    EXPECT_EQ(h.back(), "z");  // lower preference always first
    orders.insert(h);
  }
  EXPECT_EQ(orders.size(), 6u);  // all 3! orders of a, b, c seen
}

TEST(deliveryMxPlan, TwoEqualHostsSeenInBothOrders) {
  bool ab = false, ba = false;
  for (std::uint64_t seed = 0; seed < 32; ++seed) {
    auto h = hosts_of(plan_mx_hosts("d", mx({{5, "a"}, {5, "b"}}), {}, seeded(seed)));
    (h[0] == "a" ? ab : ba) = true;
  }
  EXPECT_TRUE(ab && ba);
}

struct DnsFailureCase {
  MxAnswer answer;
  NetworkErrorKind kind;
};
class MxFailures : public ::testing::TestWithParam<DnsFailureCase> {};
TEST_P(MxFailures, Fail) {
  auto r = plan_mx_hosts("example.com", GetParam().answer, {}, seeded(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_of(r), GetParam().kind);
  ferry::Attempt a = classify_error(r.error(), 0);
  const bool transient = GetParam().kind == NetworkErrorKind::DnsTemporary;
  EXPECT_EQ(a.outcome, transient ? ferry::AttemptOutcome::Transient : ferry::AttemptOutcome::Permanent);
}
INSTANTIATE_TEST_SUITE_P(
    deliveryDns, MxFailures,
    ::testing::Values(DnsFailureCase{MxAnswer{DnsStatus::NxDomain, {}}, NetworkErrorKind::DnsNxDomain},
                      DnsFailureCase{MxAnswer{DnsStatus::TempFail, {}}, NetworkErrorKind::DnsTemporary},
                      DnsFailureCase{mx({{0, "."}}), NetworkErrorKind::DnsNullMx},
                      DnsFailureCase{mx({{0, ""}}), NetworkErrorKind::DnsNullMx},
                      DnsFailureCase{mx({{0, "."}, {0, "."}}), NetworkErrorKind::DnsNullMx}));

TEST(deliveryMxPlan, NullMxStatusIs5_1_10) {
  auto r = plan_mx_hosts("example.com", mx({{0, "."}}), {}, seeded(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(classify_error(r.error(), 0).status, "5.1.10");
}

TEST(deliveryMxPlan, NullMxMixedWithRealRecordsIsIgnored) {
  auto r = plan_mx_hosts("example.com", mx({{0, "."}, {10, "mx.example.com"}}), {}, seeded(0));
  EXPECT_EQ(hosts_of(r), (std::vector<std::string>{"mx.example.com"}));
}

TEST(deliveryMxPlan, ImplicitMxOnNoDataOrEmptyAnswer) {
  for (const auto& ans : {MxAnswer{DnsStatus::NoData, {}}, MxAnswer{DnsStatus::Ok, {}}}) {
    auto r = plan_mx_hosts("Example.COM.", ans, {}, seeded(0));
    ASSERT_TRUE(r.ok());
    const auto& h = *r;
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].host, "example.com");
    EXPECT_EQ(h[0].preference, 0);
  }
}

struct SelfCase {
  std::vector<MxRecord> records;
  std::vector<std::string> expected;  // empty = MailLoop
};
class SelfMx : public ::testing::TestWithParam<SelfCase> {};
TEST_P(SelfMx, PrunesPreferenceAtOrAboveOurs) {
  MxPlanOptions o;
  o.own_hostnames = {"MX.Ferry.Example."};
  auto r = plan_mx_hosts("example.org", mx(GetParam().records), o, seeded(3));
  if (GetParam().expected.empty()) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(error_of(r), NetworkErrorKind::MailLoop);
    EXPECT_EQ(classify_error(r.error(), 0).status, "5.4.6");
  } else {
    EXPECT_EQ(hosts_of(r), GetParam().expected);
  }
}
INSTANTIATE_TEST_SUITE_P(
    deliveryLoop, SelfMx,
    ::testing::Values(SelfCase{{{10, "primary.example"}, {20, "mx.ferry.example"}, {30, "tertiary.example"}},
                               {"primary.example"}},
                      SelfCase{{{10, "mx.ferry.example"}, {20, "backup.example"}}, {}},
                      SelfCase{{{10, "mx.ferry.example"}}, {}},
                      SelfCase{{{10, "a.example"}, {20, "b.example"}, {20, "mx.ferry.example"}},
                               {"a.example"}},
                      SelfCase{{{10, "a.example"}, {20, "b.example"}}, {"a.example", "b.example"}}));

TEST(deliveryMxPlan, AddressesKeepResolverOrderAndPreferV6ByDefault) {
  std::vector<MxHost> hosts{{"a", 10}, {"b", 20}};
  std::vector<HostAddresses> addrs{host("b", {}, {"192.0.2.20"}),
                                   host("a", {"2001:db8::2", "2001:DB8::1"}, {"192.0.2.2", "192.0.2.1"})};
  auto r = plan_targets(hosts, addrs, {});
  EXPECT_EQ(ips_of(r),
            (std::vector<std::string>{"2001:db8::2", "2001:db8::1", "192.0.2.2", "192.0.2.1", "192.0.2.20"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[4].host, "b");
  EXPECT_EQ(r.value()[4].preference, 20);
}

struct FamilyCase {
  AddressPreference pref;
  std::vector<std::string> expected;
};
class Families : public ::testing::TestWithParam<FamilyCase> {};
TEST_P(Families, Merge) {
  std::vector<MxHost> hosts{{"a", 10}};
  std::vector<HostAddresses> addrs{host("a", {"2001:db8::1"}, {"192.0.2.1"})};
  MxPlanOptions o;
  o.preference = GetParam().pref;
  EXPECT_EQ(ips_of(plan_targets(hosts, addrs, o)), GetParam().expected);
}
INSTANTIATE_TEST_SUITE_P(
    deliveryPref, Families,
    ::testing::Values(FamilyCase{AddressPreference::Ipv6First, {"2001:db8::1", "192.0.2.1"}},
                      FamilyCase{AddressPreference::Ipv4First, {"192.0.2.1", "2001:db8::1"}},
                      FamilyCase{AddressPreference::Ipv6Only, {"2001:db8::1"}},
                      FamilyCase{AddressPreference::Ipv4Only, {"192.0.2.1"}}));

TEST(deliveryMxPlan, CapsAtMaxAddressesAndDropsDuplicates) {
  std::vector<MxHost> hosts{{"a", 1}, {"b", 2}, {"c", 3}};
  std::vector<HostAddresses> addrs{host("a", {}, {"10.0.0.1", "10.0.0.2", "10.0.0.1"}),
                                   host("b", {}, {"10.0.0.2", "10.0.0.3", "10.0.0.4"}),
                                   host("c", {}, {"10.0.0.5", "10.0.0.6"})};
  EXPECT_EQ(ips_of(plan_targets(hosts, addrs, {})),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}));
  MxPlanOptions two;
  two.max_addresses = 2;
  EXPECT_EQ(ips_of(plan_targets(hosts, addrs, two)), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

TEST(deliveryMxPlan, IPv6OnlyDestinationIsReachable) {
  std::vector<MxHost> hosts{{"v6", 0}};
  std::vector<HostAddresses> addrs{host("v6", {"2001:db8::25"}, {})};
  MxPlanOptions o;
  o.preference = AddressPreference::Ipv4First;
  EXPECT_EQ(ips_of(plan_targets(hosts, addrs, o)), (std::vector<std::string>{"2001:db8::25"}));
}

TEST(deliveryMxPlan, NoAddressesIsPermanentUnlessSomeLookupWasTemporary) {
  std::vector<MxHost> hosts{{"a", 1}, {"b", 2}};
  std::vector<HostAddresses> none{host("a", {}, {}), host("b", {}, {})};
  none[1].a_status = DnsStatus::NxDomain;
  EXPECT_EQ(error_of(plan_targets(hosts, none, {})), NetworkErrorKind::NoUsableMx);
  auto temp = none;
  temp[0].a_status = DnsStatus::TempFail;
  EXPECT_EQ(error_of(plan_targets(hosts, temp, {})), NetworkErrorKind::DnsTemporary);
  EXPECT_EQ(error_of(plan_targets(hosts, {}, {})), NetworkErrorKind::NoUsableMx);
  // a temporary failure on one host does not matter when another host has addresses
  temp[1] = host("b", {}, {"192.0.2.9"});
  EXPECT_EQ(ips_of(plan_targets(hosts, temp, {})), (std::vector<std::string>{"192.0.2.9"}));
}

TEST(deliveryMxPlan, GarbageAddressesFromResolverAreSkipped) {
  std::vector<MxHost> hosts{{"a", 1}};
  std::vector<HostAddresses> addrs{host("a", {"not-an-ip"}, {"300.1.1.1", "192.0.2.1"})};
  EXPECT_EQ(ips_of(plan_targets(hosts, addrs, {})), (std::vector<std::string>{"192.0.2.1"}));
}

TEST(deliveryMxPlan, AllInOne) {
  auto r = plan_mx("example.org", mx({{20, "b.example.org"}, {10, "a.example.org"}}),
                   std::vector<HostAddresses>{host("a.example.org", {}, {"192.0.2.1"}),
                                              host("B.example.org.", {}, {"192.0.2.2"})},
                   {}, seeded(0));
  EXPECT_EQ(ips_of(r), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(error_of(plan_mx("x", MxAnswer{DnsStatus::NxDomain, {}}, {}, {}, seeded(0))),
            NetworkErrorKind::DnsNxDomain);
}

TEST(deliveryMxPlan, Literals) {
  auto r = plan_literal("[192.0.2.1]");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].host, "[192.0.2.1]");
  EXPECT_EQ(ips_of(r), (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(ips_of(plan_literal("[IPv6:2001:DB8:0:0::1]")), (std::vector<std::string>{"2001:db8::1"}));
  EXPECT_EQ(error_of(plan_literal("[192.0.2]")), NetworkErrorKind::BadAddressLiteral);
  EXPECT_EQ(error_of(plan_literal("[x-tag:foo]")), NetworkErrorKind::BadAddressLiteral);
}

struct ListenerCase {
  const char* ip;
  std::uint16_t port;
  bool own;
};
class OwnListener : public ::testing::TestWithParam<ListenerCase> {};
TEST_P(OwnListener, Detects) {
  const std::vector<Listener> listeners{
      {"192.0.2.10", 25}, {"0.0.0.0", 2525}, {"::", 587}, {"2001:db8::10", 25}};
  const std::vector<std::string> local{"198.51.100.7", "2001:db8::7"};
  EXPECT_EQ(is_own_listener(GetParam().ip, GetParam().port, listeners, local), GetParam().own)
      << GetParam().ip << ":" << GetParam().port;
}
INSTANTIATE_TEST_SUITE_P(
    deliveryLoop, OwnListener,
    ::testing::Values(ListenerCase{"192.0.2.10", 25, true}, ListenerCase{"192.0.2.10", 26, false},
                      ListenerCase{"192.0.2.11", 25, false}, ListenerCase{"::ffff:192.0.2.10", 25, true},
                      ListenerCase{"2001:DB8:0::10", 25, true}, ListenerCase{"127.0.0.1", 2525, true},
                      ListenerCase{"127.0.0.2", 2525, true}, ListenerCase{"198.51.100.7", 2525, true},
                      ListenerCase{"198.51.100.8", 2525, false}, ListenerCase{"::1", 587, true},
                      ListenerCase{"127.0.0.1", 587, true}, ListenerCase{"2001:db8::7", 587, true},
                      ListenerCase{"2001:db8::7", 2525, false}, ListenerCase{"garbage", 25, false}));
