// Integration: delivery that recovers at once. A real `ferry serve` with dnsmasq and scripted
// fake MX servers on 127.0.0.x: an attempt cut short by SIGKILL is retried [retry] after_crash
// after the restart (a second interruption in a row is a `suspect` and waits); a pooled
// connection the remote closed costs a reconnect, not a deferral; EOF or a reset before the
// greeting moves on to the next MX in the same attempt; 50 MX hosts that never answer their
// address lookups do not hold the delivery.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;
using namespace std::chrono_literals;

// Holds the fake MX's reply to the final dot for the first `hangs` messages until opened, so the
// daemon can be killed in the middle of an attempt. Those messages get a 451 afterwards (the
// daemon that sent them is gone); later ones 250.
struct DataGate {
  std::mutex mutex;
  std::condition_variable cv;
  int hangs = 0;
  int hung = 0;
  bool open = false;

  std::string reply() {
    std::unique_lock lock(mutex);
    if (hangs == 0) return "250 2.0.0 Ok: queued";
    --hangs;
    ++hung;
    cv.notify_all();
    cv.wait_for(lock, 60s, [&] { return open; });
    return "451 4.3.0 the client went away";
  }
  bool wait_hung(int n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return hung >= n; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
};

class DeliveryRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::open_mx_pair(mx1_, "127.0.0.2", mx2_, "127.0.0.3"));
    mx1_->on_data = [this](const test::ReceivedMessage&) { return gate_.reply(); };
  }
  void TearDown() override {
    gate_.release();
    if (serve_) serve_->stop(SIGTERM);
  }

  void dns(std::vector<std::string> extra = {}) {
    auto zone = test::loopback_mx_zone();
    zone.insert(zone.end(), extra.begin(), extra.end());
    dns_ = std::make_unique<test::DnsServer>(zone);
  }

  // [retry] first stays at its default (5 min): anything that waits for it fails these tests.
  void configure(const std::string& extra = "") {
    if (!dns_) dns();
    dir_.write("ferry.toml",
               "hostname = \"ferry.test\"\nuser = \"root\"\n"
               "[queue]\npath = \"" +
                   dir_.file("q") +
                   "\"\nmax_size = \"64MiB\"\n"
                   "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                   "[dns]\nservers = [\"" +
                   dns_->address() +
                   "\"]\n"
                   "[delivery]\nport = " +
                   std::to_string(mx1_->port()) + "\nconnect_timeout = \"2s\"\n" + extra);
  }
  void start() {
    serve_.reset();
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log" + std::to_string(++runs_)));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    port_ = port_from_log(serve_->output());
    ASSERT_GT(port_, 0);
  }
  void kill_and_restart() {
    ASSERT_EQ(serve_->stop(SIGKILL), 128 + SIGKILL);
    start();
  }

  test::TempDir dir_;
  DataGate gate_;  // declared before the servers: it outlives their session threads
  std::unique_ptr<test::FakeMx> mx1_, mx2_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::Background> serve_;
  int port_ = 0;
  int runs_ = 0;
};

// Killed while the MX holds the final dot: after the restart the recipient is due after
// [retry] after_crash (1 s here), not at the 5-minute retry time its lease recorded.
TEST_F(DeliveryRecovery, AttemptInterruptedByACrashIsRetriedSoonAfterTheRestart) {
  gate_.hangs = 1;
  configure("[retry]\nafter_crash = \"1s\"\n");
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"crash@example.test"}, "Subject: c\n\nx\n"), "ok");
  ASSERT_TRUE(gate_.wait_hung(1)) << serve_->output();
  kill_and_restart();
  EXPECT_NE(serve_->output().find("1 attempts interrupted by the last stop"), std::string::npos)
      << serve_->output();
  ASSERT_TRUE(mx1_->wait_messages(1, 15s)) << serve_->output();
  EXPECT_TRUE(serve_->wait_for_output("to=<crash@example.test>, relay=mx1.example.test[127.0.0.2]"))
      << serve_->output();
  EXPECT_EQ(serve_->output().find("suspect"), std::string::npos) << serve_->output();
}

// Interrupted on two attempts in a row: the message may be what kills the daemon. It is logged
// as suspect and waits for the normal backoff instead of coming back after_crash later.
TEST_F(DeliveryRecovery, InterruptedTwiceInARowIsSuspectAndWaitsForTheBackoff) {
  gate_.hangs = 2;
  configure("[retry]\nafter_crash = \"1s\"\n");
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"poison@example.test"}, "Subject: p\n\nx\n"), "ok");
  ASSERT_TRUE(gate_.wait_hung(1)) << serve_->output();
  kill_and_restart();
  ASSERT_TRUE(gate_.wait_hung(2)) << serve_->output();  // retried about a second later: hangs again
  kill_and_restart();
  ASSERT_TRUE(serve_->wait_for_output("to=<poison@example.test>, status=suspect (2 attempts in a row"))
      << serve_->output();
  EXPECT_FALSE(mx1_->wait_messages(1, 3s)) << serve_->output();  // not after_crash (1 s) later
}

// The remote closes every connection after one message (as many servers do after N messages
// or an idle timeout). The pooled connection is found dead at RSET: the next message goes on a
// new connection at once, with no deferral.
TEST_F(DeliveryRecovery, DeadPooledConnectionIsRetriedOnANewOneWithoutDeferral) {
  mx1_->close_after_messages = 1;
  configure();
  start();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(
        send_mail(port_, "a@sender.test", {"p" + std::to_string(i) + "@example.test"}, "Subject: p\n\nx\n"),
        "ok");
    // Delivered before the next one comes: that one then finds the idle (pooled) connection.
    ASSERT_TRUE(mx1_->wait_messages(static_cast<std::size_t>(i + 1), 15s)) << serve_->output();
  }
  EXPECT_NE(serve_->output().find("was closed by the remote"), std::string::npos) << serve_->output();
  EXPECT_NE(serve_->output().find("retrying on a new connection"), std::string::npos) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=deferred"), std::string::npos) << serve_->output();
  EXPECT_GE(mx1_->connections(), 4);
}

// Some servers say 421 before they close an idle or used-up connection (RFC 5321 §3.8); read as
// the reply to RSET it means the same: a new connection, no deferral.
TEST_F(DeliveryRecovery, PooledConnectionClosedWith421IsRetriedOnANewOne) {
  mx1_->close_after_messages = 1;
  mx1_->close_reply = "421 4.4.2 fake.test closing: one message per connection";
  configure();
  start();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        send_mail(port_, "a@sender.test", {"q" + std::to_string(i) + "@example.test"}, "Subject: q\n\nx\n"),
        "ok");
    ASSERT_TRUE(mx1_->wait_messages(static_cast<std::size_t>(i + 1), 15s)) << serve_->output();
  }
  EXPECT_NE(serve_->output().find("retrying on a new connection"), std::string::npos) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=deferred"), std::string::npos) << serve_->output();
}

// Slow start: twelve messages for a destination seen for the first time open five connections
// ([delivery] initial_per_destination), not max_per_destination (20). The MX holds every
// message's final dot, so no delivery succeeds and the window cannot grow.
TEST_F(DeliveryRecovery, NewDestinationStartsWithFiveConnections) {
  gate_.hangs = 100;
  configure();
  start();
  for (int i = 0; i < 12; ++i)
    ASSERT_EQ(
        send_mail(port_, "a@sender.test", {"s" + std::to_string(i) + "@example.test"}, "Subject: s\n\nx\n"),
        "ok");
  ASSERT_TRUE(gate_.wait_hung(5)) << serve_->output();
  EXPECT_FALSE(gate_.wait_hung(6, 2s)) << serve_->output();
  EXPECT_EQ(mx1_->connections(), 5);
}

// RFC 5321 §5.1: a connection-level failure at one MX moves on to the next within the same
// attempt. The first MX closes before its greeting (EOF), or resets the connection.
TEST_F(DeliveryRecovery, EofBeforeTheGreetingMovesOnToTheNextMx) {
  mx1_->close_on_connect = 1;
  dns({"--mx-host=closing.test,mx1.example.test,10", "--mx-host=closing.test,mx2.failover.test,20"});
  configure();
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@closing.test"}, "Subject: e\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(1, 15s)) << serve_->output();
  EXPECT_TRUE(serve_->wait_for_output("relay=mx2.failover.test[127.0.0.3]")) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=deferred"), std::string::npos) << serve_->output();
}

TEST_F(DeliveryRecovery, ResetBeforeTheGreetingMovesOnToTheNextMx) {
  mx1_->close_on_connect = 2;
  dns({"--mx-host=closing.test,mx1.example.test,10", "--mx-host=closing.test,mx2.failover.test,20"});
  configure();
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@closing.test"}, "Subject: r\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(1, 15s)) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=deferred"), std::string::npos) << serve_->output();
}

// A UDP socket nobody reads: dnsmasq forwards a zone to it and never gets an answer, so every
// lookup in that zone runs into the resolver's timeout (seconds each).
class SilentDns {
 public:
  SilentDns() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentDns() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A hostile domain: the best MX answers at once, 50 more never answer their address lookups.
// The lookups run in parallel and stop once max_addresses (1 here) addresses are known in MX
// order: delivered at once, not after 50 lookup timeouts one after the other.
TEST_F(DeliveryRecovery, FiftySlowMxHostsDoNotHoldTheDelivery) {
  SilentDns silent;
  std::vector<std::string> zone{"--server=/slowzone.test/127.0.0.1#" + std::to_string(silent.port()),
                                "--mx-host=hostile.test,mx1.example.test,10"};
  for (int i = 0; i < 50; ++i)
    zone.push_back("--mx-host=hostile.test,h" + std::to_string(i) + ".slowzone.test,20");
  dns(zone);
  configure("max_addresses = 1\n");
  start();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@hostile.test"}, "Subject: h\n\nx\n"), "ok");
  ASSERT_TRUE(mx1_->wait_messages(1, 10s)) << serve_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_TRUE(serve_->wait_for_output("to=<x@hostile.test>, relay=mx1.example.test[127.0.0.2]"))
      << serve_->output();
}

}  // namespace
}  // namespace ferry
