// The shared pacing scripts against a real redis-server: the GCRA grants a burst then one token
// per interval to all callers together, connection leases are limited and expire, a halving
// happens once per round and recovers lazily, a merge only lowers, and hostile replies are refused.
#include "mta/cluster/PaceScripts.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/RedisServer.hpp"

namespace ferry::cluster {
namespace {

using namespace std::chrono_literals;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class PaceScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::RedisEndpoint e;
    e.port = static_cast<std::uint16_t>(redis_.port());
    auto c = RedisConnection::connect(e, "", 2000ms);
    ASSERT_TRUE(c) << c.error().message;
    conn_ = std::move(*c);
  }
  Reply run(const std::vector<Argv>& cmds) {
    auto r = conn_->pipeline(cmds);
    EXPECT_TRUE(r) << r.error().message;
    return r && !r->empty() ? r->back() : Reply{};
  }
  PaceGrant take(const PaceTake& t) {
    auto g = decode_take(run(encode_take(t)));
    EXPECT_TRUE(g) << g.error().message;
    return g ? *g : PaceGrant{};
  }
  PaceHalved halve(const PaceHalve& h) {
    auto r = decode_halve(run(encode_halve(h)));
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : PaceHalved{};
  }
  test::RedisServer redis_;
  std::unique_ptr<RedisConnection> conn_;
};

PaceTake tokens(const std::string& name, double rate, double burst, std::uint32_t want) {
  PaceTake t;
  t.name = name;
  t.rate = rate;
  t.burst = burst;
  t.want = want;
  return t;
}

TEST_F(PaceScriptsTest, GrantsTheBurstThenWaitsOneInterval) {
  const PaceGrant first = take(tokens("d1", 10, 3, 5));  // 10/s, burst 3: three at once
  EXPECT_EQ(first.tokens, 3);
  const PaceGrant none = take(tokens("d1", 10, 3, 1));
  EXPECT_EQ(none.tokens, 0);
  EXPECT_GT(none.wait_ms, 0);
  EXPECT_LE(none.wait_ms, 100);  // one interval at 10/s
  std::this_thread::sleep_for(std::chrono::milliseconds(none.wait_ms + 5));
  EXPECT_EQ(take(tokens("d1", 10, 3, 1)).tokens, 1);
}

TEST_F(PaceScriptsTest, TheRateIsSharedByEveryCaller) {
  // Two "nodes" asking in turn get the rate once between them, not twice: eleven tokens at
  // 20/s with a burst of one take at least ten intervals (a slow machine only makes it longer).
  PaceTake a = tokens("d2", 20, 1, 1), b = a;
  a.member = "a";
  b.member = "b";
  int granted = 0;
  std::chrono::steady_clock::time_point first{};
  const auto end = std::chrono::steady_clock::now() + 10s;
  for (int i = 0; granted < 11 && i < 20000 && std::chrono::steady_clock::now() < end; ++i) {
    const auto got = take(i % 2 ? a : b).tokens;
    if (got > 0 && granted == 0) first = std::chrono::steady_clock::now();
    granted += static_cast<int>(got);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(granted, 11);
  EXPECT_GE(std::chrono::steady_clock::now() - first, 450ms);
}

TEST_F(PaceScriptsTest, WithoutARateNoTokensAreCounted) {
  EXPECT_EQ(take(tokens("d3", 0, 1, 1)).tokens, -1);
  EXPECT_EQ(take(tokens("d3", 0, 1, 1)).tokens, -1);
}

TEST_F(PaceScriptsTest, ConnectionLeasesAreLimitedReleasedAndExpire) {
  PaceTake t;
  t.name = "d4";
  t.want_slot = true;
  t.slot_limit = 2;
  t.lease_ms = 2000;
  t.member = "a:1";
  EXPECT_TRUE(take(t).slot);
  t.member = "b:1";
  EXPECT_TRUE(take(t).slot);
  t.member = "b:2";
  const PaceGrant full = take(t);
  EXPECT_FALSE(full.slot);
  EXPECT_TRUE(full.slot_full);
  run(encode_release("d4", "a:1"));
  EXPECT_TRUE(take(t).slot);  // a released slot is free at once
  t.member = "c:1";
  EXPECT_FALSE(take(t).slot);
  // Renewed leases stay; the others expire after the lease time.
  std::this_thread::sleep_for(1200ms);
  run(encode_leases({{"d4", "b:1"}}, 2000));
  std::this_thread::sleep_for(1200ms);
  EXPECT_TRUE(take(t).slot);  // b:2 expired, b:1 renewed: one free
  t.member = "c:2";
  EXPECT_FALSE(take(t).slot);
}

TEST_F(PaceScriptsTest, ASlotRefusedCostsNoToken) {
  PaceTake t = tokens("d5", 1, 1, 1);
  t.want_slot = true;
  t.slot_limit = 1;
  t.member = "a:1";
  EXPECT_EQ(take(t).tokens, 1);
  t.member = "a:2";
  const PaceGrant g = take(t);
  EXPECT_TRUE(g.slot_full);
  EXPECT_EQ(g.tokens, 0);
  run(encode_release("d5", "a:1"));
  // The bucket was not charged for the refused slot: its next token comes one interval after
  // the first, not two.
  const PaceGrant later = take(t);
  EXPECT_FALSE(later.slot_full);
  EXPECT_LE(later.wait_ms, 1000);
}

TEST_F(PaceScriptsTest, HalvesOncePerRoundAndTheTakeFollows) {
  PaceHalve h;
  h.name = "d6";
  h.started_ms = unix_ms() - 100;
  h.base = 40;
  h.period_ms = 60'000;
  h.min_gap_ms = 1000;
  const PaceHalved first = halve(h);
  EXPECT_TRUE(first.changed);
  EXPECT_DOUBLE_EQ(first.rate, 20);
  EXPECT_GT(first.next_step_at, unix_ms());
  // The same round (a delivery started before the halving, or within the gap) changes nothing.
  EXPECT_FALSE(halve(h).changed);
  h.started_ms = unix_ms() + 10;
  EXPECT_FALSE(halve(h).changed);  // within the gap
  // Every caller's take now runs at the shared rate, burst shrunk in proportion.
  const PaceGrant g = take(tokens("d6", 40, 40, 100));
  EXPECT_DOUBLE_EQ(g.backoff_rate, 20);
  EXPECT_EQ(g.tokens, 20);
}

TEST_F(PaceScriptsTest, RecoversLazilyAndEnds) {
  PaceHalve h;
  h.name = "d7";
  h.started_ms = unix_ms();
  h.base = 8;
  h.period_ms = 500;
  h.min_gap_ms = 1000;
  ASSERT_TRUE(halve(h).changed);  // 4
  EXPECT_DOUBLE_EQ(take(tokens("d7", 8, 1, 1)).backoff_rate, 4);
  std::this_thread::sleep_for(600ms);
  EXPECT_DOUBLE_EQ(take(tokens("d7", 8, 1, 1)).backoff_rate, 6);  // one step: x1.5
  std::this_thread::sleep_for(600ms);
  EXPECT_DOUBLE_EQ(take(tokens("d7", 8, 1, 1)).backoff_rate, 0);  // 9 >= 8: over
}

TEST_F(PaceScriptsTest, AHalvingWithoutABaseIsIgnored) {
  PaceHalve h;
  h.name = "d8";
  h.started_ms = unix_ms();
  h.base = 0;
  h.period_ms = 1000;
  EXPECT_FALSE(halve(h).changed);
}

TEST_F(PaceScriptsTest, MergeOnlyLowers) {
  EXPECT_EQ(run(encode_merge("d9", 5, 20, 60'000)).integer, 1);
  EXPECT_DOUBLE_EQ(take(tokens("d9", 20, 1, 1)).backoff_rate, 5);
  EXPECT_EQ(run(encode_merge("d9", 10, 20, 60'000)).integer, 0);  // higher than the shared one
  EXPECT_EQ(run(encode_merge("d9", 2.5, 20, 60'000)).integer, 1);
  EXPECT_DOUBLE_EQ(take(tokens("d9", 20, 1, 1)).backoff_rate, 2.5);
  EXPECT_EQ(run(encode_merge("d10", 30, 20, 60'000)).integer, 0);  // not under the base
}

TEST(PaceScriptsDecode, RefusesHostileReplies) {
  auto integer = [](long long v) { return Reply{ReplyType::Integer, v, "", {}}; };
  auto string = [](std::string s) { return Reply{ReplyType::String, 0, std::move(s), {}}; };
  auto array = [](std::vector<Reply> e) { return Reply{ReplyType::Array, 0, "", std::move(e)}; };
  EXPECT_TRUE(
      decode_take(array({integer(1), integer(0), integer(1), integer(0), string("2.5"), integer(5)})));
  EXPECT_FALSE(decode_take(array({integer(1), integer(0), integer(1), integer(0), string("2.5")})));
  EXPECT_FALSE(
      decode_take(array({integer(1), integer(-5), integer(1), integer(0), string("0"), integer(0)})));
  EXPECT_FALSE(decode_take(array({integer(1), integer(0), integer(2), integer(0), string("0"), integer(0)})));
  EXPECT_FALSE(
      decode_take(array({integer(1), integer(0), integer(1), integer(0), string("nan"), integer(0)})));
  EXPECT_FALSE(
      decode_take(array({integer(1), integer(0), integer(1), integer(0), string("1e99"), integer(0)})));
  EXPECT_FALSE(
      decode_take(array({integer(1), integer(0), integer(1), integer(0), string("2x"), integer(0)})));
  EXPECT_FALSE(decode_take(Reply{ReplyType::Error, 0, "NOSCRIPT", {}}));
  EXPECT_FALSE(decode_halve(array({integer(1), string("-1"), integer(0)})));
  EXPECT_TRUE(decode_halve(array({integer(0), string("0"), integer(0)})));
}

}  // namespace
}  // namespace ferry::cluster
