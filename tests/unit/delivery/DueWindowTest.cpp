// DueWindow: the bounded part of the due index the scheduler mirrors; entries order as the
// index's keys; reloads and refills move the bound; admission and refill sizes; table-driven.
#include "mta/delivery/DueWindow.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

using namespace ferry;
using namespace ferry::delivery;

namespace {

DueEntry e(TimeMs due, std::uint64_t id = 1, std::uint32_t index = 0) { return {due, QueueId{id}, index}; }

TEST(deliveryDueWindow, EntriesOrderLikeTheIndexKeys) {
  EXPECT_LT(e(1, 9, 9), e(2, 1, 0));   // due time first
  EXPECT_LT(e(5, 1, 9), e(5, 2, 0));   // then queue id
  EXPECT_LT(e(5, 2, 0), e(5, 2, 1));   // then recipient
  EXPECT_EQ(e(-7, 3, 1), e(0, 3, 1));  // before the epoch is due now, as in the index
}

TEST(deliveryDueWindow, ReloadSetsTheBoundOrCompletes) {
  struct Case {
    const char* name;
    std::size_t asked, got;
    std::optional<DueEntry> last;
    bool complete;
  };
  const std::vector<Case> cases = {
      {"empty index", 100, 0, std::nullopt, true},
      {"short read reached the end", 100, 40, e(50), true},
      {"full read: more may follow", 100, 100, e(70), false},
  };
  for (const auto& c : cases) {
    DueWindow w(100);
    w.reloaded(c.asked, c.got, c.last);
    EXPECT_EQ(w.complete(), c.complete) << c.name;
    if (!c.complete) EXPECT_EQ(*w.bound(), *c.last) << c.name;
  }
}

TEST(deliveryDueWindow, CoversUpToTheBoundInclusive) {
  DueWindow w(10);
  w.reloaded(10, 10, e(100, 5, 2));
  EXPECT_TRUE(w.covers(e(99, 9, 9)));
  EXPECT_TRUE(w.covers(e(100, 5, 2)));
  EXPECT_FALSE(w.covers(e(100, 5, 3)));
  EXPECT_FALSE(w.covers(e(101, 1, 0)));
  w.refilled(5, 3, e(200));  // the refill reached the end of the index
  EXPECT_TRUE(w.complete());
  EXPECT_TRUE(w.covers(e(1'000'000)));
}

TEST(deliveryDueWindow, RefillMovesTheBound) {
  DueWindow w(10);
  w.reloaded(10, 10, e(100));
  w.refilled(5, 5, e(150));
  ASSERT_FALSE(w.complete());
  EXPECT_EQ(*w.bound(), e(150));
}

TEST(deliveryDueWindow, AdmitsBeyondTheBoundOnlyUnderTheHardCap) {
  DueWindow w(10);
  w.reloaded(10, 10, e(100));
  EXPECT_EQ(w.hard_cap(), 40u);
  EXPECT_TRUE(w.admits(e(50), 1000));  // inside the window: always
  EXPECT_TRUE(w.admits(e(500), 39));   // beyond it: new mail is not left behind a backlog
  EXPECT_FALSE(w.admits(e(500), 40));  // but memory stays bounded: a refill reads it later
}

TEST(deliveryDueWindow, RefillWant) {
  struct Case {
    const char* name;
    std::size_t in_memory;
    TimeMs now;
    std::size_t want;
  };
  // capacity 100, bound due at 1000
  const std::vector<Case> cases = {
      {"plenty in memory, bound not due", 80, 500, 0},   {"below half: back up to capacity", 30, 500, 70},
      {"bound due: half a capacity more", 80, 1000, 50}, {"bound due, near the hard cap", 380, 2000, 20},
      {"at the hard cap: nothing", 400, 2000, 0},
  };
  for (const auto& c : cases) {
    DueWindow w(100);
    w.reloaded(100, 100, e(1000));
    EXPECT_EQ(w.refill_want(c.in_memory, c.now), c.want) << c.name;
  }
  DueWindow complete(100);
  complete.reloaded(100, 3, e(5));
  EXPECT_EQ(complete.refill_want(0, 1'000'000), 0u) << "a complete window never reads";
}

}  // namespace
