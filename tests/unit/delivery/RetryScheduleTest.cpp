// RetrySchedule: first retry, doubling, cap, jitter bounds, expiry clamp, clock going backwards.
#include "mta/delivery/RetrySchedule.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace ferry;
using namespace ferry::delivery;

namespace {
constexpr TimeMs kMin = 60 * 1000;
constexpr TimeMs kHour = 60 * kMin;
constexpr TimeMs kDay = 24 * kHour;
constexpr TimeMs kT0 = 1'700'000'000'000;

// A "random" source returning a fixed value: 0 → lowest jitter, UINT64_MAX → highest, mid → none.
RandomSource fixed(std::uint64_t v) {
  return [v] { return v; };
}
const RandomSource kMid = fixed(std::uint64_t{1} << 63);

RetryPolicy no_jitter() {
  RetryPolicy p;
  p.jitter = 0;
  return p;
}
}  // namespace

struct IntervalCase {
  std::uint32_t attempts;
  TimeMs expected;
};

class RetryIntervalTest : public ::testing::TestWithParam<IntervalCase> {};

TEST_P(RetryIntervalTest, BaseIntervalDoublesUpToCap) {
  RetrySchedule s;
  EXPECT_EQ(s.base_interval(GetParam().attempts), GetParam().expected);
  RetrySchedule nj(no_jitter());
  EXPECT_EQ(nj.next_attempt(kT0, GetParam().attempts, kT0, kMid), kT0 + GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(deliveryDefaults, RetryIntervalTest,
                         ::testing::Values(IntervalCase{0, 0}, IntervalCase{1, 5 * kMin},
                                           IntervalCase{2, 10 * kMin}, IntervalCase{3, 20 * kMin},
                                           IntervalCase{4, 40 * kMin}, IntervalCase{5, kHour},
                                           IntervalCase{6, kHour}, IntervalCase{50, kHour},
                                           IntervalCase{4'000'000'000u, kHour}));

TEST(deliveryRetrySchedule, MidRandomMeansNoJitter) {
  RetrySchedule s;
  EXPECT_EQ(s.next_attempt(kT0, 1, kT0, kMid), kT0 + 5 * kMin);
}

TEST(deliveryRetrySchedule, JitterBoundsAreTenPercent) {
  RetrySchedule s;
  EXPECT_EQ(s.next_attempt(kT0, 1, kT0, fixed(0)), kT0 + 270'000);  // 5 min − 10 %
  const TimeMs hi = *s.next_attempt(kT0, 1, kT0, fixed(UINT64_MAX));
  EXPECT_LE(hi, kT0 + 330'000);
  EXPECT_GE(hi, kT0 + 329'990);
  std::mt19937_64 eng(42);
  RandomSource rng = [&eng] { return eng(); };
  TimeMs lo_seen = kHour, hi_seen = 0;
  for (int i = 0; i < 2000; ++i) {
    const TimeMs d = *s.next_attempt(kT0, 3, kT0, rng) - kT0;
    ASSERT_GE(d, 18 * kMin);
    ASSERT_LE(d, 22 * kMin);
    lo_seen = std::min(lo_seen, d);
    hi_seen = std::max(hi_seen, d);
  }
  EXPECT_LT(lo_seen, 18 * kMin + 30'000);  // the spread is really used
  EXPECT_GT(hi_seen, 22 * kMin - 30'000);
}

TEST(deliveryRetrySchedule, NewRecipientIsDueNow) {
  RetrySchedule s;
  EXPECT_EQ(s.next_attempt(kT0, 0, kT0 + 7, kMid), kT0 + 7);
}

TEST(deliveryRetrySchedule, ExpiresAtMaxAge) {
  RetrySchedule s;
  EXPECT_FALSE(s.expired(kT0, kT0 + 5 * kDay - 1));
  EXPECT_TRUE(s.expired(kT0, kT0 + 5 * kDay));
  EXPECT_EQ(s.next_attempt(kT0, 30, kT0 + 5 * kDay, kMid), std::nullopt);
  EXPECT_EQ(s.next_attempt(kT0, 30, kT0 + 6 * kDay, kMid), std::nullopt);
  EXPECT_EQ(s.expires_at(kT0), kT0 + 5 * kDay);
}

TEST(deliveryRetrySchedule, LastRetryIsClampedToTheDeadline) {
  RetrySchedule s;
  const TimeMs now = kT0 + 5 * kDay - 10 * kMin;
  EXPECT_EQ(s.next_attempt(kT0, 40, now, fixed(UINT64_MAX)), kT0 + 5 * kDay);
  // and at the deadline the recipient is expired
  EXPECT_EQ(s.next_attempt(kT0, 41, kT0 + 5 * kDay, kMid), std::nullopt);
}

TEST(deliveryRetrySchedule, ClockBackwardsNeverSchedulesInThePast) {
  RetrySchedule s;
  // now is before arrival (clock stepped back a day): still a full interval ahead of now.
  const TimeMs now = kT0 - kDay;
  auto next = s.next_attempt(kT0, 2, now, kMid);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, now + 10 * kMin);
  EXPECT_FALSE(s.expired(kT0, now));
}

TEST(deliveryRetrySchedule, ZeroConfigStillHasAFloor) {
  RetryPolicy p;
  p.first_ms = 0;
  p.max_interval_ms = 0;
  p.jitter = 0;
  RetrySchedule s(p);
  EXPECT_EQ(s.next_attempt(kT0, 1, kT0, kMid), kT0 + 1000);
  EXPECT_EQ(s.next_attempt(kT0, 9, kT0, kMid), kT0 + 1000);
}

TEST(deliveryRetrySchedule, SecondsScaleScheduleForTests) {
  RetryPolicy p;
  p.first_ms = 2000;
  p.multiplier = 3;
  p.max_interval_ms = 10'000;
  p.jitter = 0;
  p.max_age_ms = 60'000;
  RetrySchedule s(p);
  EXPECT_EQ(s.base_interval(1), 2000);
  EXPECT_EQ(s.base_interval(2), 6000);
  EXPECT_EQ(s.base_interval(3), 10'000);
  EXPECT_EQ(s.next_attempt(kT0, 3, kT0 + 55'000, kMid), kT0 + 60'000);
}

TEST(deliveryRetrySchedule, MultiplierBelowOneIsTreatedAsConstant) {
  RetryPolicy p = no_jitter();
  p.multiplier = 0.5;
  RetrySchedule s(p);
  EXPECT_EQ(s.base_interval(1), 5 * kMin);
  EXPECT_EQ(s.base_interval(5), 5 * kMin);
}
