// [[pace]] rules and [retry] after_greylist: defaults, parsing, validation errors, round trip.
#include <gtest/gtest.h>

#include <chrono>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::load;

TEST(configPace, Defaults) {
  auto c = load_config(std::nullopt);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->pace.empty());
  EXPECT_EQ(c->retry.after_greylist, 5min);
}

TEST(configPace, Rules) {
  const Config c = load(
      "[retry]\nafter_greylist = \"90s\"\n"
      "[[pace]]\nmx = \"*.Google.com\"\nrate = \"600/min\"\nconnections = 10\nmessages_per_connection = 50\n"
      "[[pace]]\ndomain = \"yahoo.com\"\nrate = \"10/s\"\nburst = 3\nbackoff_period = \"2m\"\n"
      "[[pace]]\ndomain = \"*\"\n"
      "[[pace]]\ndomain = \"*.example.com\"\nrate = \"20000/h\"\n");
  EXPECT_EQ(c.retry.after_greylist, 90s);
  ASSERT_EQ(c.pace.size(), 4u);
  EXPECT_EQ(c.pace[0].mx, "*.google.com");
  EXPECT_EQ(c.pace[0].domain, "");
  EXPECT_DOUBLE_EQ(c.pace[0].rate_per_second, 10.0);
  EXPECT_EQ(c.pace[0].connections, 10u);
  EXPECT_EQ(c.pace[0].messages_per_connection, 50u);
  EXPECT_EQ(c.pace[0].backoff_period, 10min);
  EXPECT_EQ(c.pace[1].domain, "yahoo.com");
  EXPECT_DOUBLE_EQ(c.pace[1].rate_per_second, 10.0);
  EXPECT_EQ(c.pace[1].burst, 3u);
  EXPECT_EQ(c.pace[1].backoff_period, 2min);
  EXPECT_EQ(c.pace[2].domain, "*");
  EXPECT_DOUBLE_EQ(c.pace[2].rate_per_second, 0.0);
  EXPECT_DOUBLE_EQ(c.pace[3].rate_per_second, 20000.0 / 3600);
}

TEST(configPace, Errors) {
  struct Case {
    const char* name;
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"neither", "[[pace]]\nrate = \"1/s\"\n",
       "t.toml:1:1: pace[0].domain: set exactly one of domain and mx"},
      {"both", "[[pace]]\ndomain = \"a.example\"\nmx = \"*.b.example\"\n",
       "t.toml:3:6: pace[0].mx: set exactly one of domain and mx"},
      {"bad rate unit", "[[pace]]\ndomain = \"a.example\"\nrate = \"10/week\"\n",
       "t.toml:3:8: pace[0].rate: invalid rate \"10/week\" (expected count/unit with unit s, min, h or d, "
       "e.g. "
       "\"600/min\")"},
      {"zero rate", "[[pace]]\ndomain = \"a.example\"\nrate = \"0/s\"\n",
       "t.toml:3:8: pace[0].rate: invalid rate \"0/s\" (expected count/unit with unit s, min, h or d, e.g. "
       "\"600/min\")"},
      {"rate not string", "[[pace]]\ndomain = \"a.example\"\nrate = 10\n",
       "t.toml:3:8: pace[0].rate: expected string, got integer"},
      {"mx star", "[[pace]]\nmx = \"*\"\n",
       "t.toml:2:6: pace[0].mx: \"*\" is not a host name or pattern (\"example.com\", \"*.example.com\")"},
      {"bad domain", "[[pace]]\ndomain = \"a..b\"\n",
       "t.toml:2:10: pace[0].domain: \"a..b\" is not a host name or pattern (\"example.com\", "
       "\"*.example.com\", or \"*\")"},
      {"zero connections", "[[pace]]\ndomain = \"a.example\"\nconnections = 0\n",
       "t.toml:3:15: pace[0].connections: must be between 1 and 1000000, got 0"},
      {"zero period", "[[pace]]\ndomain = \"a.example\"\nbackoff_period = 0\n",
       "t.toml:3:18: pace[0].backoff_period: must be greater than 0"},
      {"duplicate", "[[pace]]\ndomain = \"a.example\"\n[[pace]]\ndomain = \"A.example\"\n",
       "t.toml:4:10: pace[1].domain: duplicate pace rule for \"a.example\" (see pace[0])"},
      {"unknown key", "[[pace]]\ndomain = \"a.example\"\nrates = \"1/s\"\n",
       "t.toml:3:1: pace[0].rates: unknown key; did you mean \"rate\"?"},
      {"greylist zero", "[retry]\nafter_greylist = 0\n",
       "t.toml:2:18: retry.after_greylist: must be greater than 0"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.text), c.want) << c.name;
}

TEST(configPace, RendersAndLoadsBack) {
  const Config c = load(
      "[retry]\nafter_greylist = \"1m\"\n"
      "[[pace]]\nmx = \"*.protection.outlook.com\"\nrate = \"600/min\"\nburst = 20\nconnections = 4\n"
      "messages_per_connection = 100\nbackoff_period = \"30s\"\n"
      "[[pace]]\ndomain = \"*\"\n");
  const std::string text = render(c);
  EXPECT_NE(text.find("[[pace]]\nmx = \"*.protection.outlook.com\"\nrate = \"600/min\"\nburst = 20\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("after_greylist = \"1m\"\n"), std::string::npos) << text;
  auto back = load_config_text(text, "rendered.toml");
  ASSERT_TRUE(back.ok()) << back.error().str() << "\n" << text;
  EXPECT_EQ(*back, c);
}

}  // namespace
}  // namespace ferry::config
