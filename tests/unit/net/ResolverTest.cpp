// Resolver against a real DNS server (dnsmasq) on loopback: MX, implicit MX (NODATA),
// null MX, NXDOMAIN, A/AAAA, temporary failure (no server answering), caching.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "mta/net/Resolver.hpp"
#include "support/DnsServer.hpp"

namespace ferry::net {
namespace {

class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dns_ = new test::DnsServer({
        "--mx-host=example.test,mx1.example.test,10",
        "--mx-host=example.test,mx2.example.test,20",
        "--host-record=mx1.example.test,127.0.0.2",
        "--host-record=mx2.example.test,127.0.0.3,::1",
        "--host-record=nomx.test,127.0.0.4",
        "--dns-rr=nullmx.test,15,000000",
        "--txt-record=_mta-sts.example.test,v=STSv1; id=20261207",
        "--dns-rr=_25._tcp.mx1.example.test,52,030101" + std::string(64, 'a'),
        "--txt-record=_smtp._tls.example.test,v=TLSRPTv1;,rua=mailto:tlsrpt@example.test",
    });
  }
  static void TearDownTestSuite() { delete dns_; }

  std::shared_ptr<Resolver> make(std::vector<std::string> servers) {
    ResolverOptions o;
    o.servers = std::move(servers);
    o.timeout = std::chrono::milliseconds(300);
    o.tries = 1;
    auto r = Resolver::create(io_.get_executor(), o);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  MxAnswer mx(Resolver& r, const std::string& domain) {
    std::optional<MxAnswer> out;
    r.lookup_mx(domain, [&](MxAnswer a) { out = std::move(a); });
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(5))) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(MxAnswer{});
  }
  AddressAnswer addr(Resolver& r, const std::string& host) {
    std::optional<AddressAnswer> out;
    r.lookup_addresses(host, [&](AddressAnswer a) { out = std::move(a); });
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(5))) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(AddressAnswer{});
  }

  TxtAnswer txt(Resolver& r, const std::string& name) {
    std::optional<TxtAnswer> out;
    r.lookup_txt(name, [&](TxtAnswer a) { out = std::move(a); });
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(5))) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(TxtAnswer{});
  }

  static test::DnsServer* dns_;
  boost::asio::io_context io_;
};
test::DnsServer* ResolverTest::dns_ = nullptr;

TEST_F(ResolverTest, TxtRecordJoinsItsStrings) {
  auto r = make({dns_->address()});
  TxtAnswer a = txt(*r, "_mta-sts.example.test");
  ASSERT_EQ(a.status, DnsStatus::Ok) << a.error;
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0], "v=STSv1; id=20261207");
  // Two character-strings in one record (dnsmasq splits at the comma) come back as one string.
  TxtAnswer rpt = txt(*r, "_smtp._tls.example.test");
  ASSERT_EQ(rpt.status, DnsStatus::Ok) << rpt.error;
  ASSERT_EQ(rpt.records.size(), 1u);
  EXPECT_EQ(rpt.records[0], "v=TLSRPTv1;rua=mailto:tlsrpt@example.test");
  EXPECT_EQ(txt(*r, "nothing.example.test").status, DnsStatus::NxDomain);
}

// TLSA (RFC 6698 §2.1) through the resolver's own query and parser; dnsmasq does not validate,
// so nothing is authenticated although it is on loopback (whose AD bits would be believed).
TEST_F(ResolverTest, TlsaRecordsAndTheirDnssecStatus) {
  auto r = make({dns_->address()});
  EXPECT_TRUE(r->ad_trusted());
  std::optional<TlsaAnswer> out;
  r->lookup_tlsa("_25._tcp.MX1.example.test.", [&](TlsaAnswer a) { out = std::move(a); });
  io_.restart();
  while (!out && io_.run_one_for(std::chrono::seconds(5))) {
  }
  ASSERT_TRUE(out);
  ASSERT_EQ(out->status, DnsStatus::Ok) << out->error;
  ASSERT_EQ(out->records.size(), 1u);
  EXPECT_EQ(out->records[0], (dns::Tlsa{3, 1, 1, std::string(32, '\xaa')}));
  EXPECT_FALSE(out->authenticated);
  EXPECT_FALSE(addr(*r, "mx1.example.test").authenticated);
}

// The AD bit is believed from loopback servers, or from others only under [dns] trust_ad.
TEST_F(ResolverTest, AdBitTrustedOnLoopbackOrByConfiguration) {
  EXPECT_TRUE(make({"127.0.0.1:53"})->ad_trusted());
  EXPECT_TRUE(make({"[::1]:53"})->ad_trusted());
  EXPECT_FALSE(make({"192.0.2.53"})->ad_trusted());
  EXPECT_FALSE(make({"127.0.0.1", "192.0.2.53"})->ad_trusted());
  ResolverOptions o;
  o.servers = {"192.0.2.53"};
  o.trust_ad = true;
  auto trusted = Resolver::create(io_.get_executor(), o);
  ASSERT_TRUE(trusted.ok());
  EXPECT_TRUE((*trusted)->ad_trusted());
}

TEST_F(ResolverTest, MxRecordsWithPreferences) {
  auto r = make({dns_->address()});
  auto a = mx(*r, "example.test");
  ASSERT_EQ(a.status, DnsStatus::Ok) << a.error;
  ASSERT_EQ(a.records.size(), 2u);
  std::sort(a.records.begin(), a.records.end(), [](auto& x, auto& y) { return x.preference < y.preference; });
  EXPECT_EQ(a.records[0].host, "mx1.example.test");
  EXPECT_EQ(a.records[0].preference, 10);
  EXPECT_EQ(a.records[1].host, "mx2.example.test");
}

TEST_F(ResolverTest, NoMxIsNoData) {
  auto r = make({dns_->address()});
  EXPECT_EQ(mx(*r, "nomx.test").status, DnsStatus::NoData);
}

TEST_F(ResolverTest, UnknownNameIsNxDomain) {
  auto r = make({dns_->address()});
  EXPECT_EQ(mx(*r, "nowhere.test").status, DnsStatus::NxDomain);
  EXPECT_EQ(addr(*r, "nowhere.test").status, DnsStatus::NxDomain);
}

TEST_F(ResolverTest, NullMxIsOneRecordWithEmptyHost) {
  auto r = make({dns_->address()});
  auto a = mx(*r, "nullmx.test");
  ASSERT_EQ(a.status, DnsStatus::Ok) << a.error;
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].host, "");
  EXPECT_EQ(a.records[0].preference, 0);
}

TEST_F(ResolverTest, AddressesIpv6ThenIpv4) {
  auto r = make({dns_->address()});
  auto a = addr(*r, "mx2.example.test");
  ASSERT_EQ(a.status, DnsStatus::Ok) << a.error;
  ASSERT_EQ(a.addresses.size(), 2u);
  EXPECT_EQ(a.addresses[0], "::1");
  EXPECT_EQ(a.addresses[1], "127.0.0.3");
  EXPECT_EQ(addr(*r, "mx1.example.test").addresses, std::vector<std::string>{"127.0.0.2"});
}

TEST_F(ResolverTest, SilentServerIsTemporaryFailure) {
  // A UDP port with nobody answering: c-ares times out; that is a temporary failure.
  auto r = make({"127.0.0.1:9"});
  auto a = mx(*r, "example.test");
  EXPECT_EQ(a.status, DnsStatus::TempFail);
  EXPECT_FALSE(a.error.empty());
}

TEST_F(ResolverTest, AnswersAreCached) {
  auto r = make({dns_->address()});
  ASSERT_EQ(mx(*r, "example.test").status, DnsStatus::Ok);
  // The cached answer completes synchronously, without running the event loop.
  bool called = false;
  r->lookup_mx("EXAMPLE.test.", [&](MxAnswer a) { called = a.status == DnsStatus::Ok; });
  EXPECT_TRUE(called);
}

// A TXT record found is kept for its TTL (a cached answer completes at once, without the event
// loop); a name without one is asked again each time, so a record just published is seen.
TEST_F(ResolverTest, TxtRecordsFoundAreCachedForTheirTtlNoneIsNot) {
  test::DnsServer ttl_dns({"--txt-record=_mta-sts.ttl.test,v=STSv1; id=1"});  // TTL 60 s
  auto r = make({ttl_dns.address()});
  ASSERT_EQ(txt(*r, "_mta-sts.ttl.test").status, DnsStatus::Ok);
  bool cached = false;
  r->lookup_txt("_MTA-STS.ttl.test.", [&](TxtAnswer a) { cached = a.status == DnsStatus::Ok; });
  EXPECT_TRUE(cached);
  bool at_once = false;
  r->lookup_txt("_mta-sts.none.ttl.test", [&](TxtAnswer) { at_once = true; });
  EXPECT_FALSE(at_once);  // not found before: asked again, answered through the event loop
  io_.restart();
  for (int i = 0; i < 100 && !at_once && io_.run_one_for(std::chrono::seconds(5)); ++i) {
  }
  EXPECT_TRUE(at_once);
}

}  // namespace
}  // namespace ferry::net
