// [[http]]: none by default, every key, render round trip and each validation error.
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using test::error_of;
using test::load;

TEST(HttpConfig, NoneByDefault) {
  EXPECT_TRUE(load("").http.empty());
  auto r = load_config(std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->http.empty());
}

TEST(HttpConfig, SeveralEntries) {
  const Config c = load(
      "[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/etc/ferry/http-tokens\"\n"
      "[[http]]\nlisten = \"[::1]:0\"\ntoken_file = \"/etc/ferry/other\"\n");
  ASSERT_EQ(c.http.size(), 2u);
  EXPECT_EQ(c.http[0].listen.ip, "127.0.0.1");
  EXPECT_EQ(c.http[0].listen.port, 8025);
  EXPECT_EQ(c.http[0].token_file, "/etc/ferry/http-tokens");
  EXPECT_EQ(c.http[1].listen.ip, "::1");
  EXPECT_EQ(c.http[1].listen.port, 0);
}

TEST(HttpConfig, RenderRoundTrip) {
  const Config c = load("[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/t\"\n");
  const std::string text = render(c);
  EXPECT_NE(text.find("[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/t\"\n"), std::string::npos)
      << text;
  auto again = load_config_text(text, "rendered.toml");
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(*again, c);
}

TEST(HttpConfig, Errors) {
  EXPECT_EQ(error_of("[[http]]\ntoken_file = \"/t\"\n"),
            "t.toml:1:1: http[0].listen: required key is missing (e.g. \"127.0.0.1:8025\")");
  EXPECT_EQ(error_of("[[http]]\nlisten = \"127.0.0.1:8025\"\n"),
            "t.toml:1:1: http[0].token_file: required key is missing (a file of bearer tokens)");
  EXPECT_NE(error_of("[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"\"\n")
                .find("t.toml:3:14: http[0].token_file"),
            std::string::npos);
  EXPECT_NE(error_of("[[http]]\nlisten = \"localhost:8025\"\ntoken_file = \"/t\"\n")
                .find("t.toml:2:10: http[0].listen"),
            std::string::npos);
  EXPECT_NE(
      error_of("[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/t\"\nport = 1\n").find("http[0].port"),
      std::string::npos);
  EXPECT_NE(error_of("[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/t\"\n"
                     "[[http]]\nlisten = \"127.0.0.1:8025\"\ntoken_file = \"/u\"\n")
                .find("t.toml:5:10: http[1].listen: duplicate address"),
            std::string::npos);
  EXPECT_NE(error_of("http = 1\n").find("http"), std::string::npos);
}

}  // namespace
}  // namespace ferry::config
