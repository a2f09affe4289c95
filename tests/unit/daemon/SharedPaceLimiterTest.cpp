// SharedPaceLimiter against a real redis-server: the first ask goes to Redis and the answer
// wakes the caller, two nodes share one rate and one connection limit, a halving on one node
// reaches the other, and without Redis a node paces alone at its share, merging its back-off
// into the shared one when Redis is back.
#include "mta/daemon/SharedPaceLimiter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

#include "mta/cluster/RedisConnection.hpp"
#include "mta/ops/SystemClock.hpp"
#include "support/RedisServer.hpp"

namespace ferry::daemon {
namespace {

using namespace std::chrono_literals;
using delivery::PaceKey;
using delivery::PaceRule;

cluster::LinkOptions link_options(int port) {
  cluster::LinkOptions o;
  o.endpoint.port = static_cast<std::uint16_t>(port);
  o.timeout = 500ms;  // generous: a loaded test machine must not fall back by accident
  o.idle_ping = 50ms;
  o.backoff_first = 20ms;
  o.backoff_max = 100ms;
  return o;
}

PaceKey key(double rate, double burst = 1, std::uint32_t connections = 0) {
  PaceRule r;
  r.pattern = "example.test";
  r.rate = rate;
  r.burst = burst;
  r.connections = connections;
  r.backoff_period_ms = 60'000;
  return PaceKey{"example.test", r};
}

struct Node {
  Node(boost::asio::io_context& io, int port, std::uint32_t expected = 2)
      : link(link_options(port)),
        limiter(link, io.get_executor(), SharedPaceOptions{"n", expected, 2000, 500}, [this] { ++wakes; }) {
    link.start();
  }
  cluster::RedisLink link;
  SharedPaceLimiter limiter;
  int wakes = 0;
};

// Runs the I/O context until `done` holds (bounded); `done` is asked once per round.
template <typename F>
bool run_until(boost::asio::io_context& io, F done, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    io.restart();
    io.run_for(5ms);
  }
}

bool wait_up(boost::asio::io_context& io, Node& n, bool up = true) {
  return run_until(io, [&] { return n.link.up() == up; });
}

// Asks until granted (answering the limiter's wake-ups), bounded; true when granted.
bool acquire(boost::asio::io_context& io, Node& n, const PaceKey& k, bool new_connection = false,
             std::chrono::milliseconds limit = 5000ms) {
  return run_until(
      io,
      [&] {
        n.limiter.recover(now_ms());
        return n.limiter.acquire(k, now_ms(), new_connection).go;
      },
      limit);
}

TEST(SharedPaceLimiter, TheFirstAskGoesToRedisAndTheAnswerWakes) {
  test::RedisServer redis;
  boost::asio::io_context io;
  Node a(io, redis.port());
  ASSERT_TRUE(wait_up(io, a));
  a.limiter.recover(now_ms());  // notices Redis: shared from now on
  const TimeMs now = now_ms();
  const auto first = a.limiter.acquire(key(10), now, true);
  EXPECT_FALSE(first.go);  // nothing granted yet: asked in the background
  ASSERT_TRUE(first.retry_at);
  EXPECT_LE(*first.retry_at, now + 500);
  ASSERT_TRUE(run_until(io, [&] { return a.wakes > 0; }));
  EXPECT_TRUE(a.limiter.acquire(key(10), now_ms(), true).go);
}

TEST(SharedPaceLimiter, TwoNodesShareOneRate) {
  test::RedisServer redis;
  boost::asio::io_context io;
  Node a(io, redis.port()), b(io, redis.port());
  ASSERT_TRUE(wait_up(io, a));
  ASSERT_TRUE(wait_up(io, b));
  // At 10/s with a burst of one, eleven grants between the two take at least a second.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 11; ++i) ASSERT_TRUE(acquire(io, i % 2 ? a : b, key(10))) << i;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

TEST(SharedPaceLimiter, TwoNodesShareOneConnectionLimit) {
  test::RedisServer redis;
  boost::asio::io_context io;
  Node a(io, redis.port()), b(io, redis.port());
  ASSERT_TRUE(wait_up(io, a));
  ASSERT_TRUE(wait_up(io, b));
  const PaceKey k = key(0, 1, 1);  // no rate, one connection
  ASSERT_TRUE(acquire(io, a, k, true));
  EXPECT_FALSE(acquire(io, b, k, true, 600ms)) << "node B opened a second connection";
  EXPECT_EQ(a.limiter.status().front().connections, 1u);
  a.limiter.connection_closed("example.test");
  EXPECT_TRUE(acquire(io, b, k, true));
  // A reused connection (no new slot) is not held back by the limit.
  EXPECT_TRUE(acquire(io, a, k, false, 1000ms));
}

TEST(SharedPaceLimiter, AHalvingOnOneNodeReachesTheOther) {
  test::RedisServer redis;
  boost::asio::io_context io;
  Node a(io, redis.port()), b(io, redis.port());
  ASSERT_TRUE(wait_up(io, a));
  ASSERT_TRUE(wait_up(io, b));
  const PaceKey k = key(40, 40);
  ASSERT_TRUE(acquire(io, a, k));
  ASSERT_TRUE(acquire(io, b, k));
  EXPECT_FALSE(a.limiter.rate_limited(k, now_ms(), now_ms() - 10));  // reported once Redis answered
  std::vector<delivery::PaceChange> changes;
  ASSERT_TRUE(run_until(io, [&] {
    for (auto& c : a.limiter.recover(now_ms())) changes.push_back(c);
    return !changes.empty();
  }));
  EXPECT_EQ(changes.front().rate, 20);
  EXPECT_EQ(changes.front().reason, "rate_limited");
  // Node B learns it with its next grant (its tokens from before last at most a second).
  std::vector<delivery::PaceChange> seen;
  ASSERT_TRUE(run_until(io, [&] {
    b.limiter.acquire(k, now_ms(), false);
    for (auto& c : b.limiter.recover(now_ms())) seen.push_back(c);
    return !seen.empty();
  }));
  EXPECT_EQ(seen.front().rate, 20);
  ASSERT_FALSE(b.limiter.status().empty());
  EXPECT_TRUE(b.limiter.status().front().backed_off);
}

TEST(SharedPaceLimiter, WithoutRedisANodePacesAloneAtItsShareAndMergesBack) {
  test::RedisServer redis;
  boost::asio::io_context io;
  Node a(io, redis.port(), 2);
  ASSERT_TRUE(wait_up(io, a));
  a.limiter.recover(now_ms());
  redis.kill();
  ASSERT_TRUE(wait_up(io, a, false));
  // Alone: 10/s shared becomes 5/s here, burst 5 (half of one second's worth of 10).
  const PaceKey k = key(10, 0);
  int granted = 0;
  for (int i = 0; i < 20; ++i) granted += a.limiter.acquire(k, now_ms(), false).go ? 1 : 0;
  EXPECT_EQ(granted, 5);
  // A back-off reached alone...
  EXPECT_TRUE(a.limiter.rate_limited(k, now_ms(), now_ms() - 10));
  EXPECT_DOUBLE_EQ(a.limiter.status().front().rate, 2.5);
  // ...is merged into the shared one when Redis is back: 2.5/s alone is 5/s for two nodes.
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(wait_up(io, a));
  a.limiter.recover(now_ms());
  config::RedisEndpoint e;
  e.port = static_cast<std::uint16_t>(redis.port());
  auto conn = cluster::RedisConnection::connect(e, "", 2000ms);
  ASSERT_TRUE(conn);
  std::string rate;
  run_until(io, [&] {
    auto r = (*conn)->command({"HGET", cluster::pace_backoff_key("example.test"), "rate"});
    rate = r && r->type == cluster::ReplyType::String ? r->text : "";
    return !rate.empty();
  });
  EXPECT_EQ(rate, "5");
}

TEST(SharedPaceLimiter, AloneRulesAreTheSharesOfTheFleet) {
  PaceRule r;
  r.rate = 10;
  r.connections = 5;
  const PaceRule half = SharedPaceLimiter::alone(r, 2);
  EXPECT_DOUBLE_EQ(half.rate, 5);
  EXPECT_DOUBLE_EQ(half.burst, 5);  // one second's worth of 10, halved
  EXPECT_EQ(half.connections, 3u);  // rounded up: never zero
  EXPECT_EQ(SharedPaceLimiter::alone(r, 1), r);
  r.connections = 1;
  EXPECT_EQ(SharedPaceLimiter::alone(r, 4).connections, 1u);
  EXPECT_EQ(SharedPaceLimiter::tokens_to_ask(r), 1u);  // burst 10 allows it, a tenth of 10/s is 1
  r.rate = 1000;
  EXPECT_EQ(SharedPaceLimiter::tokens_to_ask(r), 100u);
  r.rate = 0;
  EXPECT_EQ(SharedPaceLimiter::tokens_to_ask(r), 1u);
}

}  // namespace
}  // namespace ferry::daemon
