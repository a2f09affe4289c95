// DanePolicy: the decision per MX host (RFC 7672 §2.2) and which TLSA records are usable for
// SMTP (§3.1.3, RFC 6698 §2.1), table-tested.
#include "mta/delivery/DanePolicy.hpp"

#include <gtest/gtest.h>

namespace ferry::delivery {
namespace {

using Kind = DaneDecision::Kind;
using S = DaneLookupStatus;

TlsaRecord rec(int usage, int selector, int mtype, std::size_t len) {
  return {static_cast<std::uint8_t>(usage), static_cast<std::uint8_t>(selector),
          static_cast<std::uint8_t>(mtype), std::string(len, '\x11')};
}

TEST(DanePolicy, UsableRecords) {
  struct Row {
    TlsaRecord r;
    bool usable;
  } rows[] = {
      {rec(3, 1, 1, 32), true},  {rec(3, 0, 1, 32), true},  {rec(2, 0, 1, 32), true},
      {rec(2, 1, 2, 64), true},  {rec(3, 0, 0, 500), true}, {rec(0, 0, 1, 32), false},
      {rec(1, 1, 1, 32), false}, {rec(4, 1, 1, 32), false}, {rec(3, 2, 1, 32), false},
      {rec(3, 1, 3, 32), false}, {rec(3, 1, 1, 31), false}, {rec(3, 1, 2, 32), false},
      {rec(3, 0, 0, 0), false},
  };
  for (const auto& row : rows) EXPECT_EQ(usable_for_smtp(row.r), row.usable) << to_text(row.r);
}

TEST(DanePolicy, Decisions) {
  struct Row {
    const char* name;
    TlsaLookup lookup;
    Kind kind;
    std::size_t records;
  } rows[] = {
      {"validated DANE-EE", {S::Ok, true, {rec(3, 1, 1, 32)}, "", ""}, Kind::Dane, 1},
      {"validated mixed", {S::Ok, true, {rec(0, 0, 1, 32), rec(2, 0, 1, 32)}, "", ""}, Kind::Dane, 1},
      {"validated, none usable: TLS only", {S::Ok, true, {rec(1, 1, 1, 32)}, "", ""}, Kind::Dane, 0},
      {"insecure TLSA", {S::Ok, false, {rec(3, 1, 1, 32)}, "", ""}, Kind::NoDane, 0},
      {"no TLSA (secure denial)", {S::NoData, true, {}, "", ""}, Kind::NoDane, 0},
      {"NXDOMAIN", {S::NxDomain, true, {}, "", ""}, Kind::NoDane, 0},
      {"SERVFAIL / bogus / timeout", {S::TempFail, false, {}, "server failure", ""}, Kind::Defer, 0},
  };
  for (const auto& row : rows) {
    const DaneDecision d = decide_dane(row.lookup);
    EXPECT_EQ(d.kind, row.kind) << row.name;
    EXPECT_EQ(d.records.size(), row.records) << row.name;
    EXPECT_EQ(dane_applies(d), row.kind == Kind::Dane) << row.name;
  }
}

// RFC 7672 §3.2.2: a TLSA RRset found through a CNAME adds the target's base domain as a name.
TEST(DanePolicy, CnameAddsTheTlsaBaseDomain) {
  const TlsaLookup viacname{S::Ok, true, {rec(2, 0, 1, 32)}, "", "_25._tcp.tlsa.example.net"};
  EXPECT_EQ(decide_dane(viacname, "_25._tcp.mx.example.org").base_domain, "tlsa.example.net");
  const TlsaLookup direct{S::Ok, true, {rec(2, 0, 1, 32)}, "", "_25._tcp.mx.example.org"};
  EXPECT_EQ(decide_dane(direct, "_25._tcp.mx.example.org").base_domain, "");
}

TEST(DanePolicy, DeferSaysWhy) {
  const DaneDecision d = decide_dane({S::TempFail, false, {}, "timeout", ""});
  EXPECT_EQ(d.reason, "TLSA lookup failed in a signed zone (timeout)");
}

TEST(DanePolicy, OnlyValidatedMxAndAddressesAskForTlsa) {
  EXPECT_TRUE(tlsa_lookup_needed(true, true));
  EXPECT_FALSE(tlsa_lookup_needed(true, false));  // unsigned zone: its TLSA SERVFAIL never defers
  EXPECT_FALSE(tlsa_lookup_needed(false, true));  // an insecure MX RRset chose the host
}

TEST(DanePolicy, NamesAndText) {
  EXPECT_EQ(tlsa_name("mx.example.org.", 25), "_25._tcp.mx.example.org");
  EXPECT_EQ(to_text({3, 1, 1, std::string("\x01\xab", 2)}), "3 1 1 01ab");
  EXPECT_EQ(usage_name(2), "dane-ta");
  EXPECT_EQ(usage_name(3), "dane-ee");
  EXPECT_EQ(usage_name(0), "pkix-ta");
  EXPECT_EQ(usage_name(9), "usage-9");
}

}  // namespace
}  // namespace ferry::delivery
