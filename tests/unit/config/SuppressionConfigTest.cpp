// [suppression] and [[listen]] suppression: defaults, overlay, rendering and errors.
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"
#include "mta/config/Config.hpp"

namespace ferry::config {
namespace {

using test::error_of;
using test::load;

TEST(configSuppression, Defaults) {
  const Config c = load("");
  EXPECT_TRUE(c.suppression.enabled);
  EXPECT_EQ(c.suppression.ttl, std::chrono::hours(24 * 30));
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_TRUE(c.listen[0].suppression);
  // Every mode checks by default: authenticated apps are kept from hard-bounced addresses too.
  const Config s = load("[[listen]]\naddress = \"::\"\nport = 587\nmode = \"submission\"\n");
  EXPECT_TRUE(s.listen[0].suppression);
}

TEST(configSuppression, Overlay) {
  const Config c = load(
      "[suppression]\nenabled = false\nttl = \"7d\"\n"
      "[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"relay\"\nsuppression = false\n"
      "[[listen]]\naddress = \"0.0.0.0\"\nport = 587\nmode = \"submission\"\n");
  EXPECT_FALSE(c.suppression.enabled);
  EXPECT_EQ(c.suppression.ttl, std::chrono::hours(24 * 7));
  EXPECT_FALSE(c.listen[0].suppression);
  EXPECT_TRUE(c.listen[1].suppression);
  EXPECT_EQ(load("[suppression]\nttl = 60\n").suppression.ttl, std::chrono::seconds(60));
}

TEST(configSuppression, Errors) {
  EXPECT_EQ(error_of("[suppression]\nttl = \"0s\"\n"), "t.toml:2:7: suppression.ttl: must be greater than 0");
  EXPECT_EQ(error_of("[suppression]\nttl = \"soon\"\n").rfind("t.toml:2:7: suppression.ttl: ", 0), 0u)
      << error_of("[suppression]\nttl = \"soon\"\n");
  EXPECT_EQ(error_of("[suppression]\nenabled = \"yes\"\n").rfind("t.toml:2:11: suppression.enabled: ", 0), 0u)
      << error_of("[suppression]\nenabled = \"yes\"\n");
  EXPECT_EQ(error_of("[suppression]\nttll = \"1d\"\n"),
            "t.toml:2:1: suppression.ttll: unknown key; did you mean \"ttl\"?");
  EXPECT_EQ(error_of("[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"relay\"\nsuppression = 1\n")
                .rfind("t.toml:5:15: listen[0].suppression: ", 0),
            0u);
}

TEST(configSuppression, Rendered) {
  const std::string out = render(load("[suppression]\nttl = \"2d\"\n"));
  EXPECT_NE(out.find("[suppression]\nenabled = true\nttl = \"2d\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("mode = \"relay\"\nsuppression = true\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace ferry::config
