// [[events]] and [queue] events_retain: defaults, render round trip and every validation error.
#include <gtest/gtest.h>

#include <chrono>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::load;

TEST(eventsConfig, Defaults) {
  auto r = load_config(std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->queue.events_retain, 10000u);
  const Config c = load("[[events]]\nwebhook = \"https://hooks.example.com/f\"\nsecret_file = \"/k\"\n");
  ASSERT_EQ(c.events.size(), 1u);
  const EventSink& s = c.events[0];
  EXPECT_EQ(s.webhook, "https://hooks.example.com/f");
  EXPECT_EQ(s.secret_file, "/k");
  EXPECT_EQ(s.ca_file, "");
  EXPECT_EQ(s.batch, 100u);
  EXPECT_EQ(s.timeout, 30s);
  EXPECT_EQ(s.retry_first, 1s);
  EXPECT_EQ(s.retry_max, 5min);
  EXPECT_EQ(s.name(), "webhook https://hooks.example.com/f");
}

TEST(eventsConfig, RenderRoundTrips) {
  const Config c = load(
      "[queue]\nevents_retain = 7\n"
      "[[events]]\nwebhook = \"https://h.example:8443/x\"\nsecret_file = \"/k\"\nca_file = \"/ca.pem\"\n"
      "batch = 5\ntimeout = \"2s\"\nretry_first = \"100ms\"\nretry_max = \"1s\"\n"
      "[[events]]\nfile = \"-\"\n");
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.queue.events_retain, 7u);
  EXPECT_EQ(c.events[1].file, "-");
  EXPECT_EQ(c.events[1].name(), "file -");
  const Config again = load(render(c));
  EXPECT_EQ(again, c);
}

TEST(eventsConfig, Errors) {
  struct Row {
    std::string text, want;
  };
  const Row rows[] = {
      {"[[events]]\nbatch = 5\n",
       "t.toml:1:1: events[0].webhook: exactly one of webhook and file is required"},
      {"[[events]]\nfile = \"/a\"\nwebhook = \"https://h.example/\"\nsecret_file = \"/k\"\n",
       "t.toml:1:1: events[0].webhook: exactly one of webhook and file is required"},
      {"[[events]]\nwebhook = \"https://h.example/\"\n",
       "t.toml:1:1: events[0].secret_file: required with webhook (the HMAC key signing each POST)"},
      {"[[events]]\nwebhook = \"http://h.example/\"\nsecret_file = \"/k\"\n",
       "t.toml:2:11: events[0].webhook: \"http://h.example/\" is not an https:// URL with a host name"},
      {"[[events]]\nfile = \"/a\"\nsecret_file = \"/k\"\n",
       "t.toml:1:1: events[0].secret_file: only for a webhook"},
      {"[[events]]\nfile = \"/a\"\nbatch = 0\n",
       "t.toml:3:9: events[0].batch: must be between 1 and 1000, got 0"},
      {"[[events]]\nfile = \"/a\"\nretry_first = \"10s\"\nretry_max = \"1s\"\n",
       "t.toml:1:1: events[0].retry_max: must not be less than retry_first"},
      {"[[events]]\nfile = \"/a\"\n[[events]]\nfile = \"/a\"\n",
       "t.toml:3:1: events[1]: the same sink twice (see events[0])"},
      {"[[events]]\nfile = \"/a\"\nurl = \"x\"\n", "t.toml:3:1: events[0].url: unknown key"},
      {"[queue]\nevents_retain = -1\n",
       "t.toml:2:17: queue.events_retain: must be between 0 and 10000000, got -1"},
  };
  for (const auto& r : rows) EXPECT_EQ(error_of(r.text), r.want) << r.text;
}

}  // namespace
}  // namespace ferry::config
