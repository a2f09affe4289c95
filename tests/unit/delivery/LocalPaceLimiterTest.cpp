// LocalPaceLimiter: tokens per destination, connection slots, the back-off and its recovery
// as changes for the log, rule changes, forgetting idle destinations, restore after a restart.
// Scheduler: a destination the start gate holds back waits without blocking the others.
#include "mta/delivery/LocalPaceLimiter.hpp"
#include "mta/delivery/Scheduler.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ferry;
using namespace ferry::delivery;

namespace {

PaceKey key(std::string name, double rate, double burst = 0, std::uint32_t connections = 0) {
  PaceKey k;
  k.name = std::move(name);
  k.rule.pattern = k.name;
  k.rule.rate = rate;
  k.rule.burst = burst;
  k.rule.connections = connections;
  k.rule.backoff_period_ms = 1000;
  return k;
}

TEST(deliveryLocalPaceLimiter, TokensPerDestination) {
  LocalPaceLimiter p;
  const PaceKey a = key("a.example", 2, 1), b = key("b.example", 2, 1);
  EXPECT_TRUE(p.acquire(a, 0, true).go);
  const PaceDecision no = p.acquire(a, 0, false);
  EXPECT_FALSE(no.go);
  EXPECT_EQ(no.retry_at, 500);
  EXPECT_TRUE(p.acquire(b, 0, true).go);  // another destination is not held up
  EXPECT_TRUE(p.acquire(a, 500, false).go);
}

TEST(deliveryLocalPaceLimiter, UnlimitedWithoutRate) {
  LocalPaceLimiter p;
  const PaceKey k = key("c.example", 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(p.acquire(k, 0, false).go);
}

TEST(deliveryLocalPaceLimiter, ConnectionSlots) {
  LocalPaceLimiter p;
  const PaceKey k = key("d.example", 0, 0, 2);
  EXPECT_TRUE(p.acquire(k, 0, true).go);
  EXPECT_TRUE(p.acquire(k, 0, true).go);
  const PaceDecision full = p.acquire(k, 0, true);
  EXPECT_FALSE(full.go);
  EXPECT_FALSE(full.retry_at);             // until a connection closes
  EXPECT_TRUE(p.acquire(k, 0, false).go);  // a held connection goes on
  p.connection_closed("d.example");
  EXPECT_TRUE(p.acquire(k, 0, true).go);
  ASSERT_EQ(p.status().size(), 1u);
  EXPECT_EQ(p.status()[0].connections, 2u);
}

TEST(deliveryLocalPaceLimiter, BackoffChangesAndRecovery) {
  LocalPaceLimiter p;
  const PaceKey k = key("e.example", 8);
  ASSERT_TRUE(p.acquire(k, 0, false).go);
  auto c = p.rate_limited(k, 100, 0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->destination, "e.example");
  EXPECT_EQ(c->rate, 4);
  EXPECT_EQ(c->reason, "rate_limited");
  EXPECT_FALSE(p.rate_limited(k, 150, 50));  // started before the halving: ignored
  EXPECT_EQ(p.next_recovery_at(), 1100);
  EXPECT_TRUE(p.recover(1000).empty());
  auto r = p.recover(1100);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].rate, 6);
  EXPECT_EQ(r[0].reason, "recovered");
  r = p.recover(2100);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].rate, 8);
  EXPECT_FALSE(p.next_recovery_at());
}

TEST(deliveryLocalPaceLimiter, BackedOffBucketIsSlower) {
  LocalPaceLimiter p;
  const PaceKey k = key("f.example", 10);
  std::size_t before = 0, after = 0;
  for (TimeMs t = 0; t < 1000; t += 10) before += p.acquire(k, t, false).go;
  ASSERT_TRUE(p.rate_limited(k, 1000, 1000));
  for (TimeMs t = 1000; t < 3000; t += 10) after += p.acquire(k, t, false).go;
  EXPECT_GE(before, 19u);  // full burst (10) + 10/s
  EXPECT_LE(before, 20u);
  EXPECT_GE(after, 9u);  // 5/s for 2 s, from whatever the burst had left (at most 5)
  EXPECT_LE(after, 15u);
}

TEST(deliveryLocalPaceLimiter, NoRateBacksOffFromObservedRate) {
  LocalPaceLimiter p;
  const PaceKey k = key("g.example", 0);
  for (TimeMs t = 0; t < 2000; t += 50) ASSERT_TRUE(p.acquire(k, t, false).go);  // 20/s
  auto c = p.rate_limited(k, 2000, 2000);
  ASSERT_TRUE(c);
  EXPECT_NEAR(c->rate, 10, 0.6);
}

TEST(deliveryLocalPaceLimiter, RuleChangeAndForgetting) {
  LocalPaceLimiter p;
  PaceKey k = key("h.example", 1, 1);
  EXPECT_TRUE(p.acquire(k, 0, false).go);
  EXPECT_FALSE(p.acquire(k, 0, false).go);
  k.rule.rate = 100;  // reload: the new rule starts afresh
  EXPECT_TRUE(p.acquire(k, 0, false).go);
  EXPECT_EQ(p.status().size(), 1u);
  p.recover(100'000);  // idle, not backed off: forgotten
  EXPECT_TRUE(p.status().empty());
}

TEST(deliveryLocalPaceLimiter, Restore) {
  LocalPaceLimiter p;
  const PaceKey k = key("i.example", 16);
  p.restore(k, 4, 5000, 4500);
  auto s = p.status();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].backed_off);
  EXPECT_EQ(s[0].rate, 4);
  EXPECT_EQ(s[0].next_step_at, 5000);
}

TEST(deliverySchedulerGate, HeldDestinationWaitsOthersFlow) {
  Scheduler s;
  s.add(QueueId{1}, 0, "slow.example", 0);
  s.add(QueueId{2}, 0, "slow.example", 0);
  s.add(QueueId{3}, 0, "fast.example", 0);
  std::vector<std::string> asked;
  s.set_start_gate([&](const std::string& d, TimeMs now, bool) -> std::optional<TimeMs> {
    asked.push_back(d);
    if (d == "slow.example" && now < 500) return TimeMs{500};
    return std::nullopt;
  });
  auto b = s.take_ready(100);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].destination, "fast.example");
  EXPECT_EQ(s.next_wakeup(), 500);  // not 0: the held destination is not busy-polled
  asked.clear();
  EXPECT_TRUE(s.take_ready(200).empty());
  EXPECT_TRUE(asked.empty());  // held: not even asked before its time
  EXPECT_FALSE(s.take_next_for("slow.example", 300));
  b = s.take_ready(500);
  EXPECT_EQ(b.size(), 2u);  // both messages, each its own batch
  EXPECT_EQ(s.size(), 0u);
}

TEST(deliverySchedulerGate, ReuseAsksWithReuseAndClearHolds) {
  Scheduler s;
  s.add(QueueId{1}, 0, "d.example", 0);
  s.add(QueueId{2}, 0, "d.example", 0);
  bool allow = true;
  std::vector<bool> reuse;
  s.set_start_gate([&](const std::string&, TimeMs, bool r) -> std::optional<TimeMs> {
    reuse.push_back(r);
    return allow ? std::nullopt : std::optional<TimeMs>(100'000);
  });
  ASSERT_EQ(s.take_ready(0, 1).size(), 1u);
  allow = false;
  EXPECT_FALSE(s.take_next_for("d.example", 0));
  EXPECT_EQ(reuse, (std::vector<bool>{false, true}));
  allow = true;
  EXPECT_TRUE(s.take_ready(1).empty());  // still held
  s.clear_holds();
  EXPECT_EQ(s.take_ready(1).size(), 1u);
}

// A hold set for a new connection (its slot) does not stop a connection already held from
// taking the next batch: take_next_for asks the gate again.
TEST(deliverySchedulerGate, ReuseIsAskedDespiteAHold) {
  Scheduler s;
  for (std::uint64_t q = 1; q <= 3; ++q) s.add(QueueId{q}, 0, "d.example", 0);
  s.set_start_gate([&](const std::string&, TimeMs, bool reuse) -> std::optional<TimeMs> {
    if (reuse) return std::nullopt;
    return TimeMs{100'000};  // no slot for a new connection
  });
  EXPECT_TRUE(s.take_ready(0).empty());
  EXPECT_EQ(s.next_wakeup(), 100'000);
  EXPECT_TRUE(s.take_next_for("d.example", 1));
  EXPECT_TRUE(s.take_next_for("d.example", 2));
}

}  // namespace
