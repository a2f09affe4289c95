// TokenBucket (rate, burst, refill, rate change) and PaceBackoff (halve on a rate limit, one
// halving per round, floor, stepwise recovery ×1.5 per period up to the base), table-driven.
#include "mta/delivery/PaceBackoff.hpp"
#include "mta/delivery/TokenBucket.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ferry;
using namespace ferry::delivery;

namespace {

TEST(deliveryTokenBucket, Table) {
  struct Case {
    const char* name;
    double rate, burst;
    std::vector<TimeMs> asks;  // try_take at these times
    std::string want;          // '+' granted, '-' refused
  };
  const std::vector<Case> cases = {
      {"starts full, burst then refuse", 10, 3, {0, 0, 0, 0}, "+++-"},
      {"one token per 1/rate", 10, 1, {0, 50, 100, 150, 200}, "+-+-+"},
      {"refill capped at burst", 10, 2, {0, 0, 10000, 10000, 10000}, "++++-"},
      {"slow rate", 0.5, 1, {0, 1000, 1999, 2000}, "+--+"},
      {"time going back counts as the last", 10, 1, {1000, 500, 1100}, "+-+"},
  };
  for (const auto& c : cases) {
    TokenBucket b(c.rate, c.burst, 0);
    std::string got;
    for (TimeMs t : c.asks) got += b.try_take(t) ? '+' : '-';
    EXPECT_EQ(got, c.want) << c.name;
  }
}

TEST(deliveryTokenBucket, NextTokenAndRateChange) {
  TokenBucket b(4, 1, 0);
  EXPECT_EQ(b.next_token_at(0), 0);
  EXPECT_TRUE(b.try_take(0));
  EXPECT_EQ(b.next_token_at(0), 250);
  EXPECT_EQ(b.next_token_at(100), 250);
  b.set_rate(2, 1, 100);  // 0.4 token earned so far; 0.6 more at 2/s = 300 ms
  EXPECT_EQ(b.next_token_at(100), 400);
  EXPECT_FALSE(b.try_take(399));
  EXPECT_TRUE(b.try_take(400));
}

// Events: 'r' a rate limit for a delivery started at the event's time, 'o' for one started at
// 0 (long before), 't' a recovery check. The rate after each event.
TEST(deliveryPaceBackoff, Table) {
  struct Step {
    TimeMs at;
    char event;
    double rate;
  };
  struct Case {
    const char* name;
    double base;
    std::vector<Step> steps;
  };
  const TimeMs P = 1000;  // the period
  const std::vector<Case> cases = {
      {"halves, holds a period, recovers ×1.5 up to the base",
       16,
       {{10, 'r', 8}, {500, 't', 8}, {1010, 't', 12}, {1500, 't', 12}, {2010, 't', 16}, {5000, 't', 16}}},
      {"a reply to a delivery started before the halving is ignored",
       16,
       {{10, 'r', 8}, {1020, 'o', 8}, {1030, 'r', 4}, {2040, 'o', 4}}},
      {"another halving waits a second: the remote's window still holds the old rate",
       16,
       {{10, 'r', 8}, {500, 'r', 8}, {1009, 'r', 8}, {1010, 'r', 4}}},
      {"repeated rate limits halve to the floor (1/64 of the base)",
       64,
       {{0, 'r', 32},
        {1000, 'r', 16},
        {2000, 'r', 8},
        {3000, 'r', 4},
        {4000, 'r', 2},
        {5000, 'r', 1},
        {6000, 'r', 1},
        {7000, 'r', 1}}},
      {"a rate limit during recovery halves again and restarts the period",
       16,
       {{0, 'r', 8}, {1000, 't', 12}, {1500, 'r', 6}, {2000, 't', 6}, {2500, 't', 9}}},
      {"floor is one a minute for a slow base",
       0.1,
       {{0, 'r', 0.05}, {1000, 'r', 0.025}, {2000, 'r', 1.0 / 60}, {3000, 'r', 1.0 / 60}}},
      {"without a base, the observed rate (20/s) is halved; recovery ends unlimited",
       0,
       {{10, 'r', 10}, {1010, 't', 15}, {2010, 't', 0}}},
  };
  for (const auto& c : cases) {
    PaceBackoff b(c.base, P);
    EXPECT_EQ(b.rate(), c.base) << c.name;
    for (const auto& s : c.steps) {
      if (s.event == 'r') b.rate_limited(s.at, s.at, 20);
      if (s.event == 'o') b.rate_limited(s.at, 0, 20);
      if (s.event == 't') b.recover(s.at);
      EXPECT_DOUBLE_EQ(b.rate(), s.rate) << c.name << " at " << s.at << " " << s.event;
    }
  }
}

TEST(deliveryPaceBackoff, RecoveryEndsTheBackoff) {
  PaceBackoff b(10, 1000);
  EXPECT_FALSE(b.next_step_at());
  EXPECT_TRUE(b.rate_limited(0, 0, 0));
  EXPECT_TRUE(b.backed_off());
  EXPECT_EQ(b.next_step_at(), 1000);
  EXPECT_FALSE(b.recover(999));
  EXPECT_TRUE(b.recover(1000));  // 7.5
  EXPECT_TRUE(b.recover(2000));  // 11.25 -> capped: over
  EXPECT_FALSE(b.backed_off());
  EXPECT_EQ(b.rate(), 10);
  EXPECT_FALSE(b.next_step_at());
}

}  // namespace
