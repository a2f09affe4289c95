// PaceState: the daemon's pacing state as text and back; hostile or broken lines are skipped,
// names that could break a line are never written.
#include "mta/delivery/PaceState.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ferry;
using namespace ferry::delivery;

namespace {

TEST(deliveryPaceState, RoundTrip) {
  PaceStateFile s;
  s.written_ms = 1700000000000;
  s.destinations.push_back({"mx:*.google.com", 2.5, 10, true, 1700000060000, 3});
  s.destinations.push_back({"yahoo.com", 0, 0, false, std::nullopt, 0});
  s.keys = {{"gmail.com", "mx:*.google.com"}};
  const std::string text = format_pace_state(s);
  EXPECT_EQ(text,
            "ferry-pace-state 1 1700000000000\n"
            "d\tmx:*.google.com\t2.5\t10\t1\t1700000060000\t3\n"
            "d\tyahoo.com\t0\t0\t0\t-\t0\n"
            "k\tgmail.com\tmx:*.google.com\n");
  const auto back = parse_pace_state(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->written_ms, s.written_ms);
  ASSERT_EQ(back->destinations.size(), 2u);
  EXPECT_EQ(back->destinations[0].destination, "mx:*.google.com");
  EXPECT_EQ(back->destinations[0].rate, 2.5);
  EXPECT_TRUE(back->destinations[0].backed_off);
  EXPECT_EQ(back->destinations[0].next_step_at, 1700000060000);
  EXPECT_EQ(back->destinations[0].connections, 3u);
  EXPECT_FALSE(back->destinations[1].next_step_at);
  EXPECT_EQ(pace_key_of(*back, "gmail.com"), "mx:*.google.com");
  EXPECT_EQ(pace_key_of(*back, "other.example"), "");
  ASSERT_NE(pace_status_of(*back, "yahoo.com"), nullptr);
  EXPECT_EQ(pace_status_of(*back, "nope"), nullptr);
}

TEST(deliveryPaceState, NamesThatWouldBreakALineAreNotWritten) {
  PaceStateFile s;
  s.destinations.push_back({"evil\nd\tx\t1\t1\t0\t-\t0", 1, 1, false, std::nullopt, 0});
  s.destinations.push_back({"tab\there", 1, 1, false, std::nullopt, 0});
  s.keys = {{"a\rb", "k"}};
  EXPECT_EQ(format_pace_state(s), "ferry-pace-state 1 0\n");
}

TEST(deliveryPaceState, BrokenInput) {
  struct Case {
    const char* name;
    const char* text;
    bool parses;
    std::size_t destinations;
  };
  const Case cases[] = {
      {"empty", "", false, 0},
      {"other version", "ferry-pace-state 2 5\n", false, 0},
      {"bad time", "ferry-pace-state 1 x\n", false, 0},
      {"header only", "ferry-pace-state 1 5", true, 0},
      {"short line skipped", "ferry-pace-state 1 5\nd\ta\t1\n", true, 0},
      {"negative rate skipped", "ferry-pace-state 1 5\nd\ta\t-1\t1\t0\t-\t0\n", true, 0},
      {"nan skipped", "ferry-pace-state 1 5\nd\ta\tnan\t1\t0\t-\t0\n", true, 0},
      {"bad flag skipped", "ferry-pace-state 1 5\nd\ta\t1\t1\t2\t-\t0\n", true, 0},
      {"unknown kind skipped", "ferry-pace-state 1 5\nz\ta\nd\ta\t1\t1\t0\t-\t0\n", true, 1},
      {"extra field skipped", "ferry-pace-state 1 5\nd\ta\t1\t1\t0\t-\t0\tmore\n", true, 0},
  };
  for (const auto& c : cases) {
    const auto r = parse_pace_state(c.text);
    EXPECT_EQ(r.has_value(), c.parses) << c.name;
    if (r) EXPECT_EQ(r->destinations.size(), c.destinations) << c.name;
  }
}

}  // namespace
