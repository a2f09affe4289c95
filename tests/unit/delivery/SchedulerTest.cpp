// Scheduler: grouping by destination and message, global and per-destination windows, release,
// connection reuse, next_wakeup, remove/reschedule, flush; UnreachableHosts memory.
#include "mta/delivery/Scheduler.hpp"
#include "mta/delivery/UnreachableHosts.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::delivery;

namespace {
constexpr TimeMs kNow = 1'000'000;

std::string describe(const Batch& b) {
  std::string s = b.destination + "#" + std::to_string(b.queue_id.value) + ":";
  for (auto r : b.recipients) s += std::to_string(r) + ",";
  return s;
}
std::vector<std::string> describe(const std::vector<Batch>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(describe(b));
  return out;
}
}  // namespace

TEST(deliveryScheduler, GroupsByDestinationAndMessage) {
  Scheduler s;
  s.add(QueueId{1}, 0, "a.test", kNow);
  s.add(QueueId{1}, 1, "b.test", kNow);
  s.add(QueueId{1}, 2, "a.test", kNow - 5);
  s.add(QueueId{2}, 0, "a.test", kNow);
  s.add(QueueId{1}, 3, "a.test", kNow + 1);  // not due yet: left for later
  auto batches = s.take_ready(kNow);
  EXPECT_EQ(describe(batches), (std::vector<std::string>{"a.test#1:0,2,", "b.test#1:1,", "a.test#2:0,"}));
  EXPECT_EQ(s.in_flight(), 3u);
  EXPECT_EQ(s.in_flight("a.test"), 2u);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.contains(QueueId{1}, 3));
  EXPECT_TRUE(s.take_ready(kNow).empty());
  EXPECT_EQ(describe(s.take_ready(kNow + 1)), (std::vector<std::string>{"a.test#1:3,"}));
}

TEST(deliveryScheduler, NothingDueNothingTaken) {
  Scheduler s;
  EXPECT_TRUE(s.take_ready(kNow).empty());
  EXPECT_EQ(s.next_wakeup(), std::nullopt);
  s.add(QueueId{7}, 0, "x", kNow + 100);
  EXPECT_TRUE(s.take_ready(kNow).empty());
  EXPECT_EQ(s.next_wakeup(), kNow + 100);
  EXPECT_EQ(s.earliest_due(), kNow + 100);
}

struct LimitCase {
  std::size_t global, per_dest;
  std::size_t dests, messages_per_dest;
  std::size_t expected_batches;
  std::size_t expected_max_per_dest;
};
class Limits : public ::testing::TestWithParam<LimitCase> {};
TEST_P(Limits, Respected) {
  const auto& c = GetParam();
  Scheduler s({c.global, c.per_dest});
  for (std::size_t d = 0; d < c.dests; ++d)
    for (std::size_t m = 0; m < c.messages_per_dest; ++m)
      s.add(QueueId{d * 1000 + m}, 0, "d" + std::to_string(d), kNow - static_cast<TimeMs>(m));
  auto b = s.take_ready(kNow);
  EXPECT_EQ(b.size(), c.expected_batches);
  EXPECT_EQ(s.in_flight(), c.expected_batches);
  std::size_t max_per = 0;
  for (std::size_t d = 0; d < c.dests; ++d) max_per = std::max(max_per, s.in_flight("d" + std::to_string(d)));
  EXPECT_EQ(max_per, c.expected_max_per_dest);
  EXPECT_EQ(s.size(), c.dests * c.messages_per_dest - c.expected_batches);
}
INSTANTIATE_TEST_SUITE_P(deliveryTable, Limits,
                         ::testing::Values(LimitCase{100, 20, 1, 50, 20, 20},    // per-destination cap
                                           LimitCase{100, 20, 10, 50, 100, 10},  // global cap, fair split
                                           LimitCase{100, 20, 3, 5, 15, 5},      // everything fits
                                           LimitCase{7, 20, 3, 5, 7, 3},         // round-robin: 3,2,2
                                           LimitCase{1, 1, 2, 2, 1, 1}, LimitCase{100, 1, 4, 3, 4, 1}));

TEST(deliveryScheduler, ReleaseOpensTheWindowAgain) {
  Scheduler s({100, 2});
  for (std::uint64_t m = 1; m <= 5; ++m) s.add(QueueId{m}, 0, "busy", kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 2u);
  EXPECT_EQ(s.next_wakeup(), std::nullopt);  // window full: wait for a release, no hot loop
  EXPECT_EQ(s.earliest_due(), kNow);
  s.release("busy");
  EXPECT_EQ(s.next_wakeup(), kNow);
  auto b = s.take_ready(kNow);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].queue_id, QueueId{3});  // oldest first (queue ids sort by allocation time)
  s.release("busy");
  s.release("busy");
  s.release("busy");  // unmatched: ignored
  s.release("never-seen");
  EXPECT_EQ(s.in_flight(), 0u);
}

TEST(deliveryScheduler, GlobalWindowFullMeansNoWakeup) {
  Scheduler s({2, 20});
  s.add(QueueId{1}, 0, "a", kNow);
  s.add(QueueId{2}, 0, "b", kNow);
  s.add(QueueId{3}, 0, "c", kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 2u);
  EXPECT_EQ(s.next_wakeup(), std::nullopt);
  s.release("a");
  EXPECT_EQ(s.next_wakeup(), kNow);
  EXPECT_EQ(describe(s.take_ready(kNow)), (std::vector<std::string>{"c#3:0,"}));
}

TEST(deliveryScheduler, ConnectionReuseTakesNoNewSlot) {
  Scheduler s({1, 1});
  s.add(QueueId{1}, 0, "d", kNow);
  s.add(QueueId{2}, 0, "d", kNow);
  s.add(QueueId{2}, 1, "d", kNow);
  s.add(QueueId{3}, 0, "d", kNow + 50);
  auto first = s.take_ready(kNow);
  ASSERT_EQ(first.size(), 1u);
  auto next = s.take_next_for("d", kNow);
  ASSERT_TRUE(next);
  EXPECT_EQ(describe(*next), "d#2:0,1,");
  EXPECT_EQ(s.in_flight(), 1u);
  EXPECT_FALSE(s.take_next_for("d", kNow));  // message 3 not due yet
  EXPECT_FALSE(s.take_next_for("other", kNow));
  s.release("d");
  EXPECT_EQ(s.next_wakeup(), kNow + 50);
}

TEST(deliveryScheduler, MaxBatchesArgument) {
  Scheduler s;
  for (std::uint64_t m = 0; m < 10; ++m) s.add(QueueId{m}, 0, "d" + std::to_string(m), kNow);
  EXPECT_EQ(s.take_ready(kNow, 3).size(), 3u);
  EXPECT_EQ(s.in_flight(), 3u);
}

TEST(deliveryScheduler, AddReplacesRemoveAndReschedule) {
  Scheduler s;
  s.add(QueueId{1}, 0, "a", kNow);
  s.add(QueueId{1}, 0, "b", kNow + 10);  // same recipient: replaced (destination and due)
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.due_of(QueueId{1}, 0), kNow + 10);
  EXPECT_TRUE(s.take_ready(kNow).empty());
  EXPECT_TRUE(s.reschedule(QueueId{1}, 0, kNow - 1));
  EXPECT_FALSE(s.reschedule(QueueId{9}, 9, kNow));
  auto b = s.take_ready(kNow);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].destination, "b");
  s.release("b");
  s.add(QueueId{5}, 0, "a", kNow);
  s.add(QueueId{5}, 1, "a", kNow);
  s.add(QueueId{5}, 2, "c", kNow);
  s.add(QueueId{6}, 0, "a", kNow);
  EXPECT_TRUE(s.remove(QueueId{5}, 1));
  EXPECT_FALSE(s.remove(QueueId{5}, 1));
  EXPECT_EQ(s.remove_message(QueueId{5}), 2u);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(describe(s.take_ready(kNow)), (std::vector<std::string>{"a#6:0,"}));
  EXPECT_EQ(s.due_of(QueueId{6}, 0), std::nullopt);
}

TEST(deliveryScheduler, FlushAllMakesEverythingDue) {
  Scheduler s;
  s.add(QueueId{1}, 0, "a", kNow + 1000);
  s.add(QueueId{2}, 0, "b", kNow + 99999);
  s.add(QueueId{3}, 0, "c", kNow - 5);
  EXPECT_EQ(s.flush_all(kNow), 2u);
  EXPECT_EQ(s.take_ready(kNow).size(), 3u);
}

TEST(deliveryScheduler, OldestDestinationServedFirstWhenSlotsAreScarce) {
  Scheduler s({1, 20});
  s.add(QueueId{10}, 0, "young", kNow - 1);
  s.add(QueueId{11}, 0, "old", kNow - 100);
  EXPECT_EQ(describe(s.take_ready(kNow)), (std::vector<std::string>{"old#11:0,"}));
}

TEST(deliveryScheduler, RebuildManyEntries) {
  Scheduler s;
  for (std::uint64_t m = 0; m < 10000; ++m)
    s.add(QueueId{m}, 0, "d" + std::to_string(m % 10), kNow + static_cast<TimeMs>(m % 7));
  EXPECT_EQ(s.size(), 10000u);
  EXPECT_EQ(s.earliest_due(), kNow);
  std::size_t delivered = 0;
  auto batches = s.take_ready(kNow + 10);
  EXPECT_EQ(batches.size(), 100u);
  for (auto& b : batches) {
    ++delivered;
    while (auto n = s.take_next_for(b.destination, kNow + 10)) ++delivered;
    s.release(b.destination);
  }
  EXPECT_EQ(delivered, 10000u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.in_flight(), 0u);
}

TEST(deliveryUnreachableHosts, RemembersUntilAndExtends) {
  UnreachableHosts u;
  EXPECT_FALSE(u.is_unreachable("mx1", kNow));
  u.mark("mx1", kNow + 100);
  EXPECT_TRUE(u.is_unreachable("mx1", kNow));
  EXPECT_TRUE(u.is_unreachable("mx1", kNow + 99));
  EXPECT_FALSE(u.is_unreachable("mx1", kNow + 100));
  EXPECT_FALSE(u.is_unreachable("mx2", kNow));
  u.mark("mx1", kNow + 50);  // never shortens
  EXPECT_EQ(u.until("mx1"), kNow + 100);
  u.mark("mx1", kNow + 500);
  EXPECT_EQ(u.until("mx1"), kNow + 500);
  u.mark("mx2", kNow + 10);
  EXPECT_EQ(u.purge(kNow + 10), 1u);
  EXPECT_EQ(u.size(), 1u);
  u.clear("mx1");
  EXPECT_EQ(u.until("mx1"), 0);
  u.mark("a", kNow + 1);
  u.clear_all();
  EXPECT_EQ(u.size(), 0u);
}

// A configuration reload changes the windows: lowering them cuts nothing in flight but starts
// nothing new until the count is back under the limit; raising them starts more at once.
TEST(deliveryScheduler, SetLimitsAppliesToTheNextTake) {
  Scheduler s({2, 2});
  for (std::uint64_t m = 1; m <= 4; ++m) s.add(QueueId{m}, 0, "a.test", kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 2u);
  s.set_limits({1, 1});
  EXPECT_TRUE(s.take_ready(kNow).empty());
  s.release("a.test");
  EXPECT_TRUE(s.take_ready(kNow).empty()) << "one still in flight, limit 1";
  s.release("a.test");
  EXPECT_EQ(s.take_ready(kNow).size(), 1u);
  s.set_limits({5, 5});
  EXPECT_EQ(s.take_ready(kNow).size(), 1u) << "the last due entry starts at once";
  s.set_limits({0, 0});
  EXPECT_EQ(s.limits().max_connections, 1u) << "zero means one, as in the constructor";
}
