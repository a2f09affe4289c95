// DnsPlan: resolver answers → MX planner input (null MX as ".", families split, NoData vs failure).
#include <gtest/gtest.h>

#include "mta/outbound/DnsPlan.hpp"

namespace ferry::outbound {
namespace {

TEST(DnsPlan, MxAnswerKeepsOrderAndMarksNullMx) {
  net::MxAnswer mx;
  mx.status = net::DnsStatus::Ok;
  mx.records = {{10, "mx1.example.org"}, {0, ""}};
  const auto plan = plan_mx_answer(mx);
  EXPECT_EQ(plan.status, delivery::DnsStatus::Ok);
  ASSERT_EQ(plan.records.size(), 2u);
  EXPECT_EQ(plan.records[0].preference, 10);
  EXPECT_EQ(plan.records[0].host, "mx1.example.org");
  EXPECT_EQ(plan.records[1].host, ".");
  EXPECT_EQ(plan_status(net::DnsStatus::NxDomain), delivery::DnsStatus::NxDomain);
  EXPECT_EQ(plan_status(net::DnsStatus::NoData), delivery::DnsStatus::NoData);
  EXPECT_EQ(plan_status(net::DnsStatus::TempFail), delivery::DnsStatus::TempFail);
}

TEST(DnsPlan, AddressesSplitByFamily) {
  net::AddressAnswer a;
  a.status = net::DnsStatus::Ok;
  a.addresses = {"2001:db8::25", "192.0.2.25", "192.0.2.26"};
  auto h = plan_host_addresses("mx.example.org", a);
  EXPECT_EQ(h.host, "mx.example.org");
  EXPECT_EQ(h.ipv6, std::vector<std::string>{"2001:db8::25"});
  EXPECT_EQ(h.ipv4, (std::vector<std::string>{"192.0.2.25", "192.0.2.26"}));
  EXPECT_EQ(h.a_status, delivery::DnsStatus::Ok);
  EXPECT_EQ(h.aaaa_status, delivery::DnsStatus::Ok);

  a.addresses = {"192.0.2.25"};
  h = plan_host_addresses("v4only.example.org", a);
  EXPECT_EQ(h.aaaa_status, delivery::DnsStatus::NoData) << "the lookup worked: no AAAA records";

  net::AddressAnswer failed;
  failed.status = net::DnsStatus::TempFail;
  h = plan_host_addresses("down.example.org", failed);
  EXPECT_EQ(h.a_status, delivery::DnsStatus::TempFail);
  EXPECT_EQ(h.aaaa_status, delivery::DnsStatus::TempFail);
}

// The TLSA answer keeps its records, its status and the AD bit as the resolver judged it.
TEST(DnsPlan, TlsaAnswerForDanePolicy) {
  net::TlsaAnswer a;
  a.status = net::DnsStatus::Ok;
  a.authenticated = true;
  a.records = {{3, 1, 1, std::string(32, 'x')}, {0, 0, 1, std::string(32, 'y')}};
  const delivery::TlsaLookup lookup = plan_tlsa_lookup(a);
  EXPECT_EQ(lookup.status, delivery::DaneLookupStatus::Ok);
  EXPECT_TRUE(lookup.authenticated);
  ASSERT_EQ(lookup.records.size(), 2u);
  EXPECT_EQ(lookup.records[0], (delivery::TlsaRecord{3, 1, 1, std::string(32, 'x')}));
  EXPECT_EQ(net_tlsa(lookup.records)[1], (net::dns::Tlsa{0, 0, 1, std::string(32, 'y')}));
  net::TlsaAnswer failed;
  failed.status = net::DnsStatus::TempFail;
  failed.error = "timeout";
  EXPECT_EQ(plan_tlsa_lookup(failed).status, delivery::DaneLookupStatus::TempFail);
  EXPECT_EQ(plan_tlsa_lookup(failed).error, "timeout");
}

}  // namespace
}  // namespace ferry::outbound
