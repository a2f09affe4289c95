// SmtpStream over real loopback sockets: bytes both ways, a deadline that passes, a deadline
// brought forward while the read waits, the peer's close, and TLS asked for before it began.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "mta/net/SmtpStream.hpp"

namespace ferry::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair on 127.0.0.1 (port 0, read back): `client` is an SmtpStream, `server` a plain
// socket the test drives.
struct Pair {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  SmtpStream client{io.get_executor()};
  tcp::socket server{io};

  Pair() {
    client.socket().connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  // Runs `body` to completion, bounded so a broken stream cannot hang the suite.
  template <typename Body>
  void run(Body body) {
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await body();
          done = true;
        },
        asio::detached);
    io.run_for(10s);
    ASSERT_TRUE(done) << "the coroutine did not finish within 10 s";
  }
};

TEST(SmtpStream, WritesAndReadsBytes) {
  Pair p;
  p.run([&]() -> asio::awaitable<void> {
    auto ec = co_await p.client.write("EHLO client\r\n", 5s);
    EXPECT_FALSE(ec) << ec.message();
    char got[64];
    std::size_t n = p.server.read_some(asio::buffer(got));
    EXPECT_EQ(std::string(got, n), "EHLO client\r\n");
    asio::write(p.server, asio::buffer(std::string("250 ok\r\n")));
    char buf[64];
    auto [rec, m] = co_await p.client.read_some(asio::buffer(buf), 5s);
    EXPECT_FALSE(rec) << rec.message();
    EXPECT_EQ(std::string(buf, m), "250 ok\r\n");
    EXPECT_FALSE(p.client.timed_out());
    EXPECT_TRUE(p.client.tls_summary().empty());
  });
}

TEST(SmtpStream, AReadPastItsDeadlineReportsTimedOut) {
  Pair p;
  p.run([&]() -> asio::awaitable<void> {
    char buf[16];
    const auto start = std::chrono::steady_clock::now();
    auto [ec, n] = co_await p.client.read_some(asio::buffer(buf), 50ms);
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(p.client.timed_out());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
    // The next operation starts afresh: the flag belongs to the last one.
    auto wec = co_await p.client.write("x", 5s);
    EXPECT_FALSE(wec);
    EXPECT_FALSE(p.client.timed_out());
  });
}

TEST(SmtpStream, ShortenEndsTheWaitInProgressEarly) {
  Pair p;
  p.run([&]() -> asio::awaitable<void> {
    // Another coroutine brings the deadline forward while the read waits on a one-hour limit.
    asio::steady_timer later(p.io, 20ms);
    later.async_wait([&](boost::system::error_code) { p.client.shorten(std::chrono::steady_clock::now()); });
    char buf[16];
    auto [ec, n] = co_await p.client.read_some(asio::buffer(buf), std::chrono::hours(1));
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_TRUE(p.client.shortened());
  });
}

TEST(SmtpStream, NoLimitTimeoutDoesNotOverflow) {
  Pair p;
  p.run([&]() -> asio::awaitable<void> {
    asio::write(p.server, asio::buffer(std::string("220 hi\r\n")));
    char buf[16];
    auto [ec, n] = co_await p.client.read_some(asio::buffer(buf), std::chrono::milliseconds::max());
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, 8u);
  });
}

TEST(SmtpStream, ThePeersCloseIsEndOfFile) {
  Pair p;
  p.server.close();
  p.run([&]() -> asio::awaitable<void> {
    char buf[16];
    auto [ec, n] = co_await p.client.read_some(asio::buffer(buf), 5s);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_EQ(n, 0u);
    EXPECT_FALSE(p.client.timed_out());
  });
}

TEST(SmtpStream, HandshakeBeforeBeginTlsIsAnErrorAndShutdownIsANoOp) {
  Pair p;
  p.run([&]() -> asio::awaitable<void> {
    auto ec = co_await p.client.handshake(asio::ssl::stream_base::client, 1s);
    EXPECT_TRUE(ec);
    EXPECT_EQ(p.client.tls(), nullptr);
    co_await p.client.shutdown_tls(1s);
    p.client.close();
    EXPECT_FALSE(p.client.is_open());
  });
}

}  // namespace
}  // namespace ferry::net
