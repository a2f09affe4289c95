// Pacer: the agent's pacing glue — rules from the configuration (with the built-in ones), a
// domain paced under its MX rule once its MX hosts are learned, connection slots released,
// messages_per_connection, "pace:" changes written to <queue>/pace-state for queue show.
#include "mta/outbound/Pacer.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "mta/delivery/LocalPaceLimiter.hpp"
#include "mta/delivery/PaceState.hpp"

using namespace ferry;
using namespace ferry::outbound;

namespace {

struct TempQueue {
  std::string path;
  TempQueue() {
    char tmpl[] = "/tmp/ferry-pacer-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempQueue() {
    ::unlink((path + "/pace-state").c_str());
    ::rmdir(path.c_str());
  }
  std::string state() const {
    std::ifstream in(path + "/pace-state");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

config::Config config_with(const std::string& queue) {
  config::Config c;
  c.queue.path = queue;
  config::PaceRule mx;
  mx.mx = "*.mx.example";
  mx.rate = "2/s";
  mx.rate_per_second = 2;
  mx.burst = 1;
  mx.connections = 1;
  mx.messages_per_connection = 3;
  mx.backoff_period = std::chrono::seconds(1);
  c.pace.push_back(mx);
  return c;
}

TEST(outboundPacer, RulesIncludeTheBuiltInOnes) {
  const auto rules = pace_rules(config_with("/nonexistent"));
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].pattern, "*.mx.example");
  EXPECT_EQ(rules[0].rate, 2);
  EXPECT_EQ(rules[0].backoff_period_ms, 1000);
  EXPECT_TRUE(rules[1].builtin);
}

TEST(outboundPacer, MxRuleAppliesOnceTheMxHostsAreKnown) {
  TempQueue q;
  Pacer p(std::make_unique<delivery::LocalPaceLimiter>());
  p.configure(config_with(q.path));
  // Before its MX hosts are known the domain is its own destination, without a rate.
  EXPECT_FALSE(p.admit("a.example", 0, false));
  EXPECT_FALSE(p.admit("a.example", 0, false));
  EXPECT_EQ(p.messages_per_connection("a.example", 0), 0u);
  p.closed("a.example");
  p.closed("a.example");
  p.learn_mx("a.example", {"mx1.mx.example"}, 0);
  p.learn_mx("b.example", {"mx2.mx.example"}, 0);
  EXPECT_EQ(p.messages_per_connection("a.example", 0), 3u);
  // One bucket (2/s, burst 1) and one connection for both domains.
  EXPECT_FALSE(p.admit("a.example", 1000, false));
  EXPECT_EQ(p.admit("b.example", 1000, false), 1000 + 1000) << "the connection slot is taken";
  EXPECT_EQ(p.admit("a.example", 1000, true), 1500) << "a held connection waits for the next token";
  p.closed("a.example");
  EXPECT_FALSE(p.admit("b.example", 1500, false));
}

TEST(outboundPacer, RateLimitIsLoggedAndWrittenForQueueShow) {
  TempQueue q;
  Pacer p(std::make_unique<delivery::LocalPaceLimiter>());
  p.configure(config_with(q.path));
  p.learn_mx("a.example", {"mx1.mx.example"}, 0);
  EXPECT_FALSE(p.admit("a.example", 0, false));
  p.rate_limited("a.example", 0, 10);
  const auto next = p.tick(2000);
  EXPECT_TRUE(next);
  const auto state = delivery::parse_pace_state(q.state());
  ASSERT_TRUE(state) << q.state();
  EXPECT_EQ(delivery::pace_key_of(*state, "a.example"), "mx:*.mx.example");
  const auto* s = delivery::pace_status_of(*state, "mx:*.mx.example");
  ASSERT_NE(s, nullptr) << q.state();
  EXPECT_EQ(s->configured, 2);
  EXPECT_TRUE(s->backed_off);
  EXPECT_EQ(s->rate, 1.5) << "halved to 1/s at 10 ms, one step (x1.5) at 2 s";
  // Restart: the back-off in force comes back from the state file.
  Pacer again(std::make_unique<delivery::LocalPaceLimiter>());
  again.configure(config_with(q.path));
  again.restore(2000);
  const auto status = again.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_TRUE(status[0].backed_off);
  EXPECT_EQ(status[0].rate, 1.5);
  EXPECT_EQ(status[0].next_step_at, s->next_step_at);
}

}  // namespace
