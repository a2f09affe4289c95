// PendingBytesBudget: grants within the capacity, releases, forced counts, and the banker's rule
// that keeps connections waiting for memory from deadlocking (some holder can always finish).
#include <gtest/gtest.h>

#include "mta/inbound/PendingBytesBudget.hpp"

namespace ferry::inbound {
namespace {

TEST(pendingBytesBudget, GrantsWithinTheCapacityAndReleases) {
  PendingBytesBudget b(100);
  auto a = b.add(100);
  EXPECT_TRUE(b.try_set(a, 60));
  EXPECT_FALSE(b.try_set(a, 101));
  EXPECT_EQ(b.total(), 60u);
  EXPECT_TRUE(b.try_set(a, 10)) << "shrinking always succeeds";
  EXPECT_EQ(b.total(), 10u);
  b.remove(a);
  EXPECT_EQ(b.total(), 0u);
  EXPECT_EQ(b.holders(), 0u);
}

TEST(pendingBytesBudget, NeverIntoAStateWhereNoHolderCanFinish) {
  // Two holders that may each need 60 of 100. Without the rule both could hold 50 and each
  // wait for the other forever.
  PendingBytesBudget b(100);
  auto x = b.add(60), y = b.add(60);
  EXPECT_TRUE(b.try_set(x, 30));
  EXPECT_TRUE(b.try_set(y, 30));
  EXPECT_TRUE(b.try_set(y, 45)) << "25 free: y can finish (it needs 15), then x";
  EXPECT_FALSE(b.try_set(x, 50)) << "5 free: x would need 10 and y 15, neither could finish";
  EXPECT_TRUE(b.try_set(y, 60)) << "the holder closest to its claim proceeds";
  b.remove(y);
  EXPECT_TRUE(b.try_set(x, 60));
}

TEST(pendingBytesBudget, HoldersWithNothingBlockNoOne) {
  PendingBytesBudget b(100);
  auto x = b.add(100);
  for (int i = 0; i < 50; ++i) b.add(100);
  EXPECT_TRUE(b.try_set(x, 100)) << "idle connections hold nothing a grant must wait for";
}

TEST(pendingBytesBudget, ForcedCountsStopGrowthUntilReleased) {
  PendingBytesBudget b(100);
  auto x = b.add(50), y = b.add(50);
  b.force_set(x, 120);  // memory that already exists is counted even past the capacity
  EXPECT_EQ(b.total(), 120u);
  EXPECT_FALSE(b.try_set(y, 1));
  b.force_set(x, 20);
  EXPECT_TRUE(b.try_set(y, 40));
}

TEST(pendingBytesBudget, ClaimAboveTheCapacityIsCut) {
  PendingBytesBudget b(100);
  auto x = b.add(1000), y = b.add(1000);
  EXPECT_TRUE(b.try_set(x, 100)) << "alone it may use the whole budget";
  EXPECT_FALSE(b.try_set(y, 1));
  b.try_set(x, 0);
  EXPECT_TRUE(b.try_set(y, 1));
}

TEST(pendingBytesBudget, AllowanceIsSetAsideForEveryHolder) {
  // The first 10 bytes of each holder are always granted and never make the state unsafe, even
  // when the holders' claims are the whole budget (which otherwise lets only one hold anything).
  PendingBytesBudget b(100, 10);
  auto x = b.add(100), y = b.add(100);
  EXPECT_TRUE(b.try_set(x, 10));
  b.force_set(y, 10);  // e.g. counted after a read
  EXPECT_TRUE(b.try_set(x, 80)) << "x can finish with what the allowances leave (80)";
  EXPECT_FALSE(b.try_set(y, 11)) << "past its allowance y would leave x unable to finish";
  EXPECT_TRUE(b.try_set(y, 5));
  b.remove(x);
  EXPECT_TRUE(b.try_set(y, 90)) << "alone, y may grow to its claim within the capacity";
}

TEST(pendingBytesBudget, CapacityCanChange) {
  PendingBytesBudget b(100);
  auto x = b.add(50);
  EXPECT_TRUE(b.try_set(x, 50));
  b.set_capacity(40);
  EXPECT_FALSE(b.try_set(x, 51));
  EXPECT_TRUE(b.try_set(x, 30));
  EXPECT_EQ(b.capacity(), 40u);
}

}  // namespace
}  // namespace ferry::inbound
