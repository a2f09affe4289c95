// DestinationWindow: slow start from the initial window, +1 per delivery up to the maximum, -1
// per connection failure or 421 down to 1; table-driven. Scheduler: the window gates take_ready.
#include "mta/delivery/DestinationWindow.hpp"
#include "mta/delivery/Scheduler.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ferry;
using namespace ferry::delivery;

namespace {

struct WindowCase {
  const char* name;
  std::size_t initial, max;
  std::string events;              // 'd' delivered, 'f' failed
  std::vector<std::size_t> sizes;  // the size at the start and after each event
};

TEST(deliveryDestinationWindow, Table) {
  const std::vector<WindowCase> cases = {
      {"starts at initial", 5, 20, "", {5}},
      {"grows one per delivery", 5, 20, "ddd", {5, 6, 7, 8}},
      {"stops at max", 5, 7, "dddd", {5, 6, 7, 7, 7}},
      {"shrinks one per failure", 5, 20, "ff", {5, 4, 3}},
      {"never below one", 2, 20, "fff", {2, 1, 1, 1}},
      {"recovers after failures", 3, 20, "ffdd", {3, 2, 1, 2, 3}},
      {"initial above max is max", 50, 20, "d", {20, 20}},
      {"initial 0 means no slow start", 0, 20, "f", {20, 19}},
      {"max 0 is one", 5, 0, "d", {1, 1}},
      {"max 1 stays 1", 5, 1, "dfd", {1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    DestinationWindow w(c.initial, c.max);
    std::vector<std::size_t> sizes{w.size()};
    for (char e : c.events) {
      if (e == 'd')
        w.delivered();
      else
        w.failed();
      sizes.push_back(w.size());
    }
    EXPECT_EQ(sizes, c.sizes) << c.name;
  }
}

TEST(deliveryDestinationWindow, ReloadKeepsTheSizeWithinTheNewBounds) {
  DestinationWindow w(5, 20);
  for (int i = 0; i < 10; ++i) w.delivered();
  EXPECT_EQ(w.size(), 15u);
  w.set_limits(5, 10);
  EXPECT_EQ(w.size(), 10u);
  w.set_limits(5, 30);
  EXPECT_EQ(w.size(), 10u);
  w.set_limits(0, 30);
  EXPECT_EQ(w.size(), 30u);
}

constexpr TimeMs kNow = 1'000'000;

// A new destination gets `initial_per_destination` connections, not max_per_destination: 20
// connections at once to a stranger is how senders get rate-limited.
TEST(deliverySchedulerSlowStart, NewDestinationOpensTheInitialWindow) {
  Scheduler s({100, 20, 5});
  for (std::uint64_t m = 1; m <= 30; ++m) s.add(QueueId{m}, 0, "new.test", kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 5u);
  EXPECT_EQ(s.in_flight("new.test"), 5u);
  EXPECT_EQ(s.window("new.test"), 5u);
  EXPECT_TRUE(s.take_ready(kNow).empty());
  EXPECT_FALSE(s.next_wakeup().has_value());  // waits for a release or a delivery
  // Two deliveries: two more connections.
  EXPECT_TRUE(s.delivered("new.test"));
  EXPECT_TRUE(s.delivered("new.test"));
  EXPECT_EQ(s.window("new.test"), 7u);
  EXPECT_FALSE(s.delivered("unknown.test"));
  EXPECT_EQ(s.next_wakeup(), kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 2u);
  // Failures shrink it below what is open: nothing new until enough are released.
  for (int i = 0; i < 4; ++i) s.connection_failed("new.test");
  EXPECT_EQ(s.window("new.test"), 3u);
  for (int i = 0; i < 4; ++i) s.release("new.test");
  EXPECT_EQ(s.in_flight("new.test"), 3u);
  EXPECT_TRUE(s.take_ready(kNow).empty());
  s.release("new.test");
  EXPECT_EQ(s.take_ready(kNow).size(), 1u);
}

TEST(deliverySchedulerSlowStart, GrowsToTheLimitAndAnotherDestinationStartsSlowAgain) {
  Scheduler s({100, 8, 5});
  for (std::uint64_t m = 1; m <= 40; ++m) s.add(QueueId{m}, 0, "busy.test", kNow);
  for (std::uint64_t m = 41; m <= 50; ++m) s.add(QueueId{m}, 0, "other.test", kNow);
  auto first = s.take_ready(kNow);
  EXPECT_EQ(first.size(), 10u);  // 5 + 5
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.delivered("busy.test"));
  EXPECT_FALSE(s.delivered("busy.test"));  // at the limit: no growth, no wake-up needed
  EXPECT_EQ(s.window("busy.test"), 8u);
  EXPECT_EQ(s.window("other.test"), 5u);
  EXPECT_EQ(s.take_ready(kNow).size(), 3u);
  EXPECT_EQ(s.in_flight("busy.test"), 8u);
}

// Without initial_per_destination (0) the window is the maximum at once, as before.
TEST(deliverySchedulerSlowStart, ZeroMeansNoSlowStart) {
  Scheduler s({100, 20});
  for (std::uint64_t m = 1; m <= 30; ++m) s.add(QueueId{m}, 0, "x.test", kNow);
  EXPECT_EQ(s.take_ready(kNow).size(), 20u);
}

// A destination with no work and no connection is forgotten; when mail for it comes back it
// is a new destination and starts slow again.
TEST(deliverySchedulerSlowStart, AnIdleDestinationIsForgotten) {
  Scheduler s({100, 20, 5});
  s.add(QueueId{1}, 0, "x.test", kNow);
  ASSERT_EQ(s.take_ready(kNow).size(), 1u);
  for (int i = 0; i < 5; ++i) s.delivered("x.test");
  EXPECT_EQ(s.window("x.test"), 10u);
  s.release("x.test");
  EXPECT_EQ(s.window("x.test"), 5u);
}

}  // namespace
