// ConfigWarnings: what check-config and serve warn about on a configuration that is valid.
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"
#include "mta/config/ConfigWarnings.hpp"

namespace ferry::config {
namespace {

using test::load;

TEST(configWarnings, Table) {
  const char* admin = "[local]\nadmin = \"ops@example.com\"\n";
  const char* smarthost = "[[route]]\ndomain = \"*\"\nhost = \"smtp.example.net:587\"\n";
  struct Row {
    std::string toml;
    std::vector<std::string> starts;  // each warning's beginning, in order
  };
  const std::vector<Row> rows = {
      {"", {"[local] admin is not set: mail to root", "no [[route]] and [delivery] port = 25"}},
      {std::string(admin), {"no [[route]] and [delivery] port = 25: outbound port 25 is often blocked"}},
      {std::string(admin) + smarthost, {}},
      {std::string(admin) + "[delivery]\nport = 2525\n", {}},
      {"[local]\nadmin = \"root@vm\"\n" + std::string(smarthost),
       {"[local] admin \"root@vm\" is in a local domain"}},
      {"[local]\nadmin = \"root@Localhost\"\n" + std::string(smarthost),
       {"[local] admin \"root@Localhost\" is in"}},
  };
  for (const auto& r : rows) {
    const auto got = config_warnings(load(r.toml), "vm");
    ASSERT_EQ(got.size(), r.starts.size()) << r.toml;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].rfind(r.starts[i], 0), 0u) << got[i];
  }
}

TEST(configWarnings, TheDefaultSaysTheFixes) {
  const auto got = config_warnings(load(""), "vm");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find("set [local] admin = \"you@example.com\""), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("see README Smarthost"), std::string::npos) << got[1];
}

}  // namespace
}  // namespace ferry::config
