// PolicyCache: the `sts` table round-trips every field, survives reopening, is listed and
// erased, and its codec refuses truncated or unknown-version values.
#include "queue/PolicyCache.hpp"

#include <gtest/gtest.h>

#include "QueueTestSupport.hpp"

using namespace ferry;
using namespace ferry::queue;
using namespace ferry::queue::test;

namespace {

PolicyCacheRecord sample(std::string domain) {
  PolicyCacheRecord r;
  r.domain = std::move(domain);
  r.id = "20240101";
  r.policy_text = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n";
  r.fetched_ms = 1000;
  r.expires_ms = 86401000;
  r.next_refresh_ms = 43000000;
  r.failures = 2;
  return r;
}

TEST(queue_policy_cache, RoundTripsEveryFieldAndSurvivesReopen) {
  TempDir dir;
  {
    auto store = open_store(dir.queue());
    ASSERT_TRUE(store);
    auto none = store->policy_get("example.test");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    ASSERT_TRUE(store->policy_put(sample("Example.TEST")));
  }
  auto store = open_store(dir.queue());
  ASSERT_TRUE(store);
  auto got = store->policy_get("EXAMPLE.test");
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  const PolicyCacheRecord want = sample("example.test");
  EXPECT_EQ((*got)->domain, want.domain);
  EXPECT_EQ((*got)->id, want.id);
  EXPECT_EQ((*got)->policy_text, want.policy_text);
  EXPECT_EQ((*got)->fetched_ms, want.fetched_ms);
  EXPECT_EQ((*got)->expires_ms, want.expires_ms);
  EXPECT_EQ((*got)->next_refresh_ms, want.next_refresh_ms);
  EXPECT_EQ((*got)->failures, want.failures);
}

TEST(queue_policy_cache, ListsAndErases) {
  TempDir dir;
  auto store = open_store(dir.queue());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->policy_put(sample("b.test")));
  ASSERT_TRUE(store->policy_put(sample("a.test")));
  auto all = store->policy_list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].domain, "a.test");
  auto erased = store->policy_erase("a.test");
  ASSERT_TRUE(erased);
  EXPECT_TRUE(*erased);
  erased = store->policy_erase("a.test");
  ASSERT_TRUE(erased);
  EXPECT_FALSE(*erased);
  EXPECT_EQ(store->policy_list()->size(), 1u);
}

TEST(queue_policy_cache, CodecRefusesTruncationAndUnknownVersion) {
  const std::string bytes = codec::encode_policy_cache(sample("x.test"));
  ASSERT_TRUE(codec::decode_policy_cache("x.test", bytes));
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(codec::decode_policy_cache("x.test", bytes.substr(0, n))) << n;
  EXPECT_FALSE(codec::decode_policy_cache("x.test", bytes + "x"));
  std::string other = bytes;
  other[0] = 2;
  EXPECT_FALSE(codec::decode_policy_cache("x.test", other));
}

}  // namespace
