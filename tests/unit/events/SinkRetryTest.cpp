// SinkRetryTest: the sinks' capped exponential backoff and their once-per-change log lines.
#include "mta/events/SinkRetry.hpp"

#include <gtest/gtest.h>

namespace ferry::events {
namespace {

using std::chrono::milliseconds;

TEST(sink_retry, DelayDoublesAndIsCapped) {
  struct Row {
    unsigned failures;
    long long want;
  };
  const Row rows[] = {{0, 0},    {1, 500},  {2, 1000}, {3, 2000},
                      {4, 4000}, {5, 5000}, {6, 5000}, {4000000000u, 5000}};
  for (const auto& r : rows)
    EXPECT_EQ(retry_delay(r.failures, milliseconds(500), milliseconds(5000)).count(), r.want) << r.failures;
}

TEST(sink_retry, LogsOncePerStateChange) {
  SinkRetry s;
  EXPECT_FALSE(s.succeeded());
  EXPECT_EQ(s.failed("connect: refused").value_or(""), "failing: connect: refused");
  EXPECT_FALSE(s.failed("connect: refused"));
  EXPECT_FALSE(s.failed("connect: refused"));
  EXPECT_EQ(s.failed("HTTP 500").value_or(""), "still failing, now: HTTP 500");
  EXPECT_EQ(s.failures(), 4u);
  EXPECT_EQ(s.succeeded().value_or(""), "working again after 4 failed attempt(s)");
  EXPECT_FALSE(s.succeeded());
  EXPECT_EQ(s.failures(), 0u);
}

}  // namespace
}  // namespace ferry::events
