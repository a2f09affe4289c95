// SessionTimers: read timeouts, the transaction deadline and stress mode (pure, time passed in).
#include <gtest/gtest.h>

#include "mta/inbound/SessionTimers.hpp"

namespace ferry::inbound {
namespace {

using namespace std::chrono_literals;
using TP = SessionTimers::TimePoint;

SessionTimerSettings settings() {
  SessionTimerSettings s;
  s.command = 300s;
  s.data = 600s;
  s.transaction = 1800s;
  s.stress = 10s;
  return s;
}

TEST(SessionTimers, CommandAndDataTimeouts) {
  const TP t0{};
  SessionTimers t(settings(), t0);
  EXPECT_EQ(t.next_read(t0, false, false).timeout, 300s);
  EXPECT_EQ(t.next_read(t0, true, false).timeout, 600s);
  EXPECT_FALSE(t.next_read(t0, true, false).transaction_limit);
}

// A client that sends one octet just before every timeout still runs out of transaction time.
TEST(SessionTimers, TransactionDeadlineBoundsEveryRead) {
  const TP t0{};
  SessionTimers t(settings(), t0);
  auto r = t.next_read(t0 + 1500s, true, false);
  EXPECT_EQ(r.timeout, 300s);
  EXPECT_TRUE(r.transaction_limit);
  r = t.next_read(t0 + 1799s, false, false);
  EXPECT_EQ(r.timeout, 1s);
  EXPECT_TRUE(r.transaction_limit);
  r = t.next_read(t0 + 2000s, false, false);
  EXPECT_EQ(r.timeout, 0s);
  EXPECT_TRUE(r.transaction_limit);
}

TEST(SessionTimers, AnAcceptedMessageRestartsTheDeadline) {
  const TP t0{};
  SessionTimers t(settings(), t0);
  t.message_accepted(t0 + 1700s);
  const auto r = t.next_read(t0 + 1800s, false, false);
  EXPECT_EQ(r.timeout, 300s);
  EXPECT_FALSE(r.transaction_limit);
}

TEST(SessionTimers, StressShortensBothTimeouts) {
  const TP t0{};
  SessionTimers t(settings(), t0);
  EXPECT_EQ(t.next_read(t0, false, true).timeout, 10s);
  EXPECT_EQ(t.next_read(t0, true, true).timeout, 10s);
  EXPECT_FALSE(t.next_read(t0, true, true).transaction_limit);
}

TEST(SessionTimers, StressIsMoreThanEightyPercent) {
  EXPECT_FALSE(under_stress(8, 10));
  EXPECT_TRUE(under_stress(9, 10));
  EXPECT_FALSE(under_stress(800, 1000));
  EXPECT_TRUE(under_stress(801, 1000));
  EXPECT_FALSE(under_stress(5, 0));  // no limit, no stress
}

}  // namespace
}  // namespace ferry::inbound
