// RedisLink against a real redis-server: commands (binary-safe), AUTH and SELECT, a full queue,
// deadlines, the awaitable's timeout race, and an outage (SIGKILL) with reconnection.
#include "mta/cluster/RedisLink.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <future>

#include "mta/cluster/SuppressionStream.hpp"
#include "mta/daemon/RedisCall.hpp"
#include "support/RedisServer.hpp"

namespace ferry::cluster {
namespace {

using namespace std::chrono_literals;

config::RedisEndpoint endpoint(const test::RedisServer& redis, int db = 0) {
  config::RedisEndpoint e;
  e.port = static_cast<std::uint16_t>(redis.port());
  e.db = db;
  return e;
}

LinkOptions options(const test::RedisServer& redis, std::chrono::milliseconds timeout = 1000ms) {
  LinkOptions o;
  o.endpoint = endpoint(redis);
  o.timeout = timeout;
  o.idle_ping = 100ms;
  o.backoff_first = 20ms;
  o.backoff_max = 200ms;
  return o;
}

// Waits (bounded) until the link's state is `up`.
bool wait_state(const RedisLink& link, bool up, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (link.up() == up) return true;
    std::this_thread::sleep_for(5ms);
  }
  return link.up() == up;
}

Replies call(RedisLink& link, std::vector<Argv> cmds, std::chrono::milliseconds deadline = 2000ms) {
  std::promise<Replies> p;
  auto f = p.get_future();
  link.submit(std::move(cmds), LinkClock::now() + deadline, [&p](Replies r) { p.set_value(std::move(r)); });
  return f.get();
}

TEST(clusterLink, CommandsAreBinarySafe) {
  test::RedisServer redis;
  RedisLink link(options(redis));
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  const std::string value("a\0b\r\nc", 6);
  auto r = call(link, {{"SET", "k", value}, {"GET", "k"}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].type, ReplyType::Status);
  EXPECT_EQ((*r)[1].text, value);
  EXPECT_GT(link.latency_seconds(), 0.0);
  auto e = call(link, {{"NOSUCHCOMMAND"}});
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->front().is_error());  // a Redis error is a reply, and the link stays up
  EXPECT_TRUE(link.up());
}

// XREAD's reply nests five deep: it must convert and decode through the real link.
TEST(clusterLink, StreamReadThroughTheLink) {
  test::RedisServer redis;
  RedisLink link(options(redis));
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  SuppressionEvent ev;
  ev.node = "n1";
  ev.entry.address = "gone@example.test";
  ev.entry.category = "unknown_user";
  ev.entry.time_ms = 5;
  auto r = call(link, {encode_suppression_event(ev), read_suppression_events("0", 100)});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  auto batch = decode_suppression_events((*r)[1]);
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].entry.address, "gone@example.test");
  EXPECT_EQ(batch->last_id, (*r)[0].text);
}

TEST(clusterLink, AuthAndSelectOnConnect) {
  test::RedisServer redis("s3cret-pass");
  LinkOptions o = options(redis);
  o.password = "s3cret-pass";
  o.endpoint.db = 2;
  RedisLink link(o);
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  ASSERT_TRUE(call(link, {{"SET", "in2", "yes"}}));
  auto db2 = RedisConnection::connect(endpoint(redis, 2), "s3cret-pass", 1000ms);
  auto db0 = RedisConnection::connect(endpoint(redis, 0), "s3cret-pass", 1000ms);
  ASSERT_TRUE(db2 && db0);
  EXPECT_EQ((*db2)->command({"GET", "in2"})->text, "yes");
  EXPECT_EQ((*db0)->command({"GET", "in2"})->type, ReplyType::Nil);
  auto wrong = RedisConnection::connect(endpoint(redis), "wrong", 1000ms);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message.find("wrong"), std::string::npos);  // the password is never echoed
}

TEST(clusterLink, WrongPasswordStaysDownAndRefusesAtOnce) {
  test::RedisServer redis("right-pass");
  LinkOptions o = options(redis);
  o.password = "wrong-pass";
  RedisLink link(o);
  link.start();
  std::this_thread::sleep_for(300ms);  // several connect attempts: none may bring it up
  EXPECT_FALSE(link.up());
  auto r = call(link, {{"PING"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
}

TEST(clusterLink, FullQueueAndPastDeadlineFailAtOnce) {
  test::RedisServer redis;
  LinkOptions o = options(redis, 2000ms);
  o.max_queue = 1;
  RedisLink link(o);
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  // BLPOP holds the link's thread ~0.5 s; one request may wait behind it, the next is refused.
  std::promise<Replies> blocked;
  link.submit({{"BLPOP", "nothing", "0.5"}}, LinkClock::now() + 2000ms,
              [&](Replies r) { blocked.set_value(std::move(r)); });
  std::this_thread::sleep_for(100ms);
  std::promise<Replies> queued;
  link.submit({{"PING"}}, LinkClock::now() + 2000ms, [&](Replies r) { queued.set_value(std::move(r)); });
  const auto t0 = std::chrono::steady_clock::now();
  auto full = call(link, {{"PING"}});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind, ErrorKind::Unavailable);
  EXPECT_TRUE(blocked.get_future().get());
  EXPECT_TRUE(queued.get_future().get());
  auto late = call(link, {{"PING"}}, -1ms);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, ErrorKind::Unavailable);
}

// A coroutine on the I/O thread never waits for Redis past the link's timeout.
TEST(clusterLink, AwaitableGivesUpAtTheTimeout) {
  test::RedisServer redis;
  RedisLink link(options(redis, 50ms));
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  boost::asio::io_context io;
  std::optional<Replies> got;
  std::chrono::steady_clock::duration took{};
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<Argv> cmds{{"BLPOP", "nothing", "2"}};
        auto call = daemon::redis_call(link, io.get_executor(), std::move(cmds));
        got = co_await std::move(call);
        took = std::chrono::steady_clock::now() - t0;
      },
      boost::asio::detached);
  io.run_for(5s);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().kind, ErrorKind::Unavailable);
  EXPECT_LT(took, 1000ms) << std::chrono::duration<double>(took).count();
  // The timed-out read broke the connection; the link reconnects by itself and a quick command
  // answers through the awaitable again (a few tries: it may still be reconnecting).
  std::optional<Replies> pong;
  for (int i = 0; i < 100 && !(pong && *pong); ++i) {
    if (pong) std::this_thread::sleep_for(20ms);
    pong.reset();
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          std::vector<Argv> cmds{{"PING"}};
          auto call = daemon::redis_call(link, io.get_executor(), std::move(cmds));
          pong = co_await std::move(call);
        },
        boost::asio::detached);
    io.restart();
    io.run_for(5s);
  }
  ASSERT_TRUE(pong.has_value());
  ASSERT_TRUE(*pong) << pong->error().message;
  EXPECT_EQ((*pong)->front().text, "PONG");
}

// Stuck behind a slow request on the link's thread, a call still gives up at its own timeout:
// the timer on the caller's executor wins the race, the link's thread is not waited for.
TEST(clusterLink, AwaitableDoesNotWaitForABusyLink) {
  test::RedisServer redis;
  RedisLink link(options(redis, 3000ms));
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  std::promise<Replies> slow;
  link.submit({{"BLPOP", "nothing", "1"}}, LinkClock::now() + 3000ms,
              [&](Replies r) { slow.set_value(std::move(r)); });
  boost::asio::io_context io;
  std::optional<Replies> got;
  std::chrono::steady_clock::duration took{};
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<Argv> cmds{{"PING"}};
        auto call = daemon::redis_call(link, io.get_executor(), std::move(cmds), 50ms);
        got = co_await std::move(call);
        took = std::chrono::steady_clock::now() - t0;
      },
      boost::asio::detached);
  io.run_for(5s);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().kind, ErrorKind::Unavailable);
  EXPECT_LT(took, 500ms) << std::chrono::duration<double>(took).count();
  EXPECT_TRUE(slow.get_future().get());  // the slow one still completes, on its own
}

TEST(clusterLink, OutageFailsFastThenReconnects) {
  test::RedisServer redis;
  RedisLink link(options(redis, 50ms));
  link.start();
  ASSERT_TRUE(wait_state(link, true));
  ASSERT_TRUE(call(link, {{"SET", "before", "1"}}));
  redis.kill();
  ASSERT_TRUE(wait_state(link, false));  // the idle PING notices
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call(link, {{"GET", "before"}});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 50ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  }
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(wait_state(link, true));
  auto r = call(link, {{"SET", "after", "1"}, {"GET", "after"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[1].text, "1");
}

}  // namespace
}  // namespace ferry::cluster
