// StsShared: the MTA-STS policy value nodes share in Redis — round trip, hostile values refused
// (size, header, id, time, node, the policy itself), the key, the TTL and when a node adopts it.
#include "mta/delivery/StsShared.hpp"

#include <gtest/gtest.h>

using namespace ferry::delivery;

namespace {

RandomSource zero() {
  return [] { return std::uint64_t{0}; };
}

const std::string kPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n";
constexpr ferry::TimeMs kFetched = 1'700'000'000'000;

std::string header(const std::string& id = "20260101", const std::string& fetched = "1700000000000",
                   const std::string& node = "node-a") {
  return "v=ferry-sts1\nid=" + id + "\nfetched=" + fetched + "\nnode=" + node + "\n\n";
}

TEST(StsShared, RoundTrip) {
  const StsShared in{"20260101", kFetched, "node-a", kPolicy};
  auto out = decode_sts_shared(encode_sts_shared(in));
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->shared.id, in.id);
  EXPECT_EQ(out->shared.fetched_ms, in.fetched_ms);
  EXPECT_EQ(out->shared.node, in.node);
  EXPECT_EQ(out->shared.policy_text, kPolicy);  // as served, byte for byte
  EXPECT_EQ(out->policy.mode, StsMode::Enforce);
  EXPECT_EQ(out->policy.max_age, 86400u);
  EXPECT_EQ(out->policy.mx, std::vector<std::string>{"mx.example.test"});
}

TEST(StsShared, HostileValuesAreRefused) {
  struct Case {
    std::string value;
    std::string why;  // the start of the reason
  };
  const Case cases[] = {
      {"", "unknown format"},
      {"v=ferry-sts2\nid=a\n", "unknown format"},
      {"version: STSv1\r\nmode: enforce\r\n", "unknown format"},  // a bare policy
      {"v=ferry-sts1\n", "invalid id"},
      {header("") + kPolicy, "invalid id"},
      {header("abc-def") + kPolicy, "invalid id"},  // RFC 8461 §3.1: ALPHA / DIGIT only
      {header(std::string(33, 'a')) + kPolicy, "invalid id"},
      {header("a\r") + kPolicy, "invalid id"},
      {"v=ferry-sts1\nfetched=1\nid=a\nnode=n\n\n" + kPolicy, "invalid id"},  // fields in order
      {header("a", "") + kPolicy, "invalid fetched time"},
      {header("a", "-5") + kPolicy, "invalid fetched time"},
      {header("a", "1e9") + kPolicy, "invalid fetched time"},
      {header("a", "1234567890123456") + kPolicy, "invalid fetched time"},  // > 15 digits
      {header("a", "1", "") + kPolicy, "invalid node name"},
      {header("a", "1", "node a") + kPolicy, "invalid node name"},
      {header("a", "1", "node\x1b[31m") + kPolicy, "invalid node name"},
      {header("a", "1", std::string(256, 'n')) + kPolicy, "invalid node name"},
      {"v=ferry-sts1\nid=a\nfetched=1\nnode=n\n" + kPolicy, "no blank line"},
      {"v=ferry-sts1\nid=a\nfetched=1\nnode=n", "invalid node name"},  // truncated
      {header() + "", "invalid policy"},
      {header() + "version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n", "invalid policy"},  // no mx
      {header() + "version: STSv1\r\nmode: always\r\nmx: a.test\r\nmax_age: 1\r\n", "invalid policy"},
      {header() + "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 99999999999\r\n",
       "invalid policy"},
      {header() + kPolicy + std::string(kStsSharedMaxBytes, '#'), "value too large"},
      {header() + kPolicy + "#" + std::string(kStsMaxPolicyBytes - kPolicy.size(), '#'), "policy too large"},
  };
  for (const auto& c : cases) {
    auto r = decode_sts_shared(c.value);
    ASSERT_FALSE(r) << ::testing::PrintToString(c.value.substr(0, 120));
    EXPECT_EQ(r.error().rfind(c.why, 0), 0u)
        << r.error() << " for " << ::testing::PrintToString(c.value.substr(0, 120));
  }
}

TEST(StsShared, KeyOnlyForPlainDomainNames) {
  const std::pair<std::string, std::optional<std::string>> cases[] = {
      {"example.test", "ferry:sts:example.test"},
      {"mail-1.example.test", "ferry:sts:mail-1.example.test"},
      {"", std::nullopt},
      {"Example.test", std::nullopt},  // callers give it lower case
      {"example.test.", std::nullopt},
      {".example.test", std::nullopt},
      {"a..test", std::nullopt},
      {"a test", std::nullopt},
      {"a\r\nb.test", std::nullopt},
      {"[127.0.0.1]", std::nullopt},
      {std::string(254, 'a'), std::nullopt},
  };
  for (const auto& [domain, key] : cases) EXPECT_EQ(sts_shared_key(domain), key) << domain;
}

TEST(StsShared, TtlIsWhatIsLeftOfMaxAge) {
  StsCached e;
  e.expires_ms = kFetched + 86'400'000;
  EXPECT_EQ(sts_shared_ttl(e, kFetched).count(), 86'400'000);
  EXPECT_EQ(sts_shared_ttl(e, kFetched + 86'000'000).count(), 400'000);
  EXPECT_EQ(sts_shared_ttl(e, e.expires_ms).count(), 0);
  EXPECT_EQ(sts_shared_ttl(e, e.expires_ms + 5).count(), 0);
}

TEST(StsShared, AdoptedOnlyForTheCurrentIdWhileValid) {
  auto decoded = decode_sts_shared(encode_sts_shared({"20260101", kFetched, "node-a", kPolicy}));
  ASSERT_TRUE(decoded);
  struct Case {
    std::string txt_id;
    ferry::TimeMs now;
    bool adopted;
  };
  const Case cases[] = {
      {"20260101", kFetched + 1000, true},
      {"20260101", kFetched + 86'400'000 - 1, true},
      {"20260101", kFetched + 86'400'000, false},                 // max_age ran out
      {"20260102", kFetched + 1000, false},                       // another id published now: an old policy
      {"20260101", kFetched - 60'000, true},                      // our clock a minute behind
      {"20260101", kFetched - kStsSharedClockSkewMs - 1, false},  // fetched in our future
  };
  for (const auto& c : cases) {
    auto e = sts_adopt_shared(*decoded, c.txt_id, c.now, zero());
    EXPECT_EQ(e.has_value(), c.adopted) << c.txt_id << " at " << c.now - kFetched;
    if (!e) continue;
    const ferry::TimeMs fetched = std::min(kFetched, c.now);
    EXPECT_EQ(e->fetched_ms, fetched);
    EXPECT_EQ(e->expires_ms, fetched + 86'400'000);
    EXPECT_EQ(e->policy_text, kPolicy);
    EXPECT_EQ(e->id, c.txt_id);
    // The same refresh time the fetching node computed (half of max_age, here jitter-free).
    EXPECT_EQ(e->next_refresh_ms, fetched + 43'200'000);
  }
}

TEST(StsShared, ReplacesTheLocalEntryOnlyWhenNewer) {
  StsCached adopted;
  adopted.id = "2";
  adopted.fetched_ms = 10'000;
  adopted.next_refresh_ms = 50'000;
  const auto local = [](std::string id, ferry::TimeMs fetched) {
    StsCached c;
    c.id = std::move(id);
    c.fetched_ms = fetched;
    return std::optional<StsCached>(c);
  };
  struct Case {
    const char* name;
    std::optional<StsCached> local;
    bool refreshing;
    ferry::TimeMs now;
    bool replaces;
  };
  const Case cases[] = {
      {"nothing here", std::nullopt, false, 20'000, true},
      {"another id here", local("1", 15'000), false, 20'000, true},
      {"ours is older", local("2", 5'000), false, 20'000, true},
      {"ours is the same fetch", local("2", 10'000), false, 20'000, false},
      {"ours is newer", local("2", 12'000), false, 20'000, false},
      {"refresh: another node refreshed since", local("2", 5'000), true, 20'000, true},
      {"refresh: the shared one is due too", local("2", 5'000), true, 50'000, false},
      {"refresh: our own fetch came back", local("2", 10'000), true, 20'000, false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(sts_shared_replaces(c.local, adopted, c.refreshing, c.now), c.replaces) << c.name;
}

}  // namespace
