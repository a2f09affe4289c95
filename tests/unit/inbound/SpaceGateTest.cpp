// SpaceGate: a "yes" is cached briefly, a "no" is measured again before every refusal.
#include <gtest/gtest.h>

#include <vector>

#include "mta/inbound/SpaceGate.hpp"

namespace ferry::inbound {
namespace {

using namespace std::chrono_literals;

struct Disk {
  bool full = false;
  bool fails = false;
  int probes = 0;
  std::vector<bool> changes;
  SpaceGate gate{[this]() -> std::optional<SpaceCheck> {
                   ++probes;
                   if (fails) return std::nullopt;
                   SpaceCheck c;
                   c.ok = !full;
                   if (full) c.why = "full";
                   return c;
                 },
                 [this](const SpaceCheck& c) { changes.push_back(c.ok); }, 200ms};
};

TEST(SpaceGate, AcceptingAnswerIsReusedWithinMaxAge) {
  Disk d;
  const auto t0 = SpaceGate::Clock::time_point{} + 1h;
  EXPECT_TRUE(d.gate.accepting(t0));
  EXPECT_TRUE(d.gate.accepting(t0 + 100ms));
  EXPECT_EQ(d.probes, 1);
  EXPECT_TRUE(d.gate.accepting(t0 + 200ms));
  EXPECT_EQ(d.probes, 2);
}

TEST(SpaceGate, RefusalIsMeasuredAgainSoFreedSpaceIsSeenAtOnce) {
  // The queue fills, delivery drains it, and the next MAIL — within the cache window — must be
  // accepted: a stale "full" answer made the disk-full fault test fail at random.
  Disk d;
  const auto t0 = SpaceGate::Clock::time_point{} + 1h;
  d.full = true;
  EXPECT_FALSE(d.gate.accepting(t0));
  d.full = false;
  EXPECT_TRUE(d.gate.accepting(t0 + 1ms));
  EXPECT_EQ(d.changes, (std::vector<bool>{false, true}));
}

TEST(SpaceGate, StillFullIsMeasuredEachTimeAndReportedOnce) {
  Disk d;
  const auto t0 = SpaceGate::Clock::time_point{} + 1h;
  d.full = true;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.gate.accepting(t0 + i * 1ms));
  EXPECT_EQ(d.probes, 5);
  EXPECT_EQ(d.changes, (std::vector<bool>{false}));
}

TEST(SpaceGate, FailedMeasurementKeepsTheLastAnswer) {
  Disk d;
  const auto t0 = SpaceGate::Clock::time_point{} + 1h;
  d.full = true;
  d.gate.refresh(t0);
  d.fails = true;
  EXPECT_FALSE(d.gate.accepting(t0 + 1s));
  EXPECT_EQ(d.gate.last().why, "full");
}

}  // namespace
}  // namespace ferry::inbound
