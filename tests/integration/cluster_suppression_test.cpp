// The shared suppression list with the real parts: two `ferry serve` nodes, one redis-server and
// a fake MX that says "user unknown". A hard bounce on node A makes node B refuse the address at
// RCPT within a couple of seconds; a node that was down catches up when it starts; manual adds
// and removals travel too.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "integration/support/MailClient.hpp"
#include "integration/support/OpsSupport.hpp"
#include "integration/support/ServeNode.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"
#include "support/RedisServer.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Node : test::ServeNode {
  void configure(const std::string& redis_url, int mx_port) {
    write_config(
        "[retry]\nfirst = \"1h\"\n[delivery]\nconnect_timeout = \"2s\"\n"
        "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
        std::to_string(mx_port) + "\"\n[cluster]\nredis = \"" + redis_url + "\"\nnode_name = \"" + name +
        "\"\nheartbeat = \"300ms\"\n");
  }
  void start() { test::ServeNode::start("cluster: redis up"); }
  // The reply to RCPT TO:<rcpt> in a fresh session ("" when the session failed earlier).
  std::string rcpt(const std::string& address) const {
    test::Smtp s(port);
    if (!s.reply().starts_with("220") || !s.cmd("EHLO client.test").starts_with("250") ||
        !s.cmd("MAIL FROM:<a@client.test>").starts_with("250"))
      return "";
    const std::string r = s.cmd("RCPT TO:<" + address + ">");
    s.cmd("QUIT");
    return r;
  }
  std::string send(const std::string& to) const {
    test::Smtp s(port);
    if (!s.reply().starts_with("220") || !s.cmd("EHLO client.test").starts_with("250")) return "";
    return s.message("a@client.test", to, "Subject: t\r\n\r\nhi");
  }
  // Polls RCPT until it is refused (or accepted, with `refused` false); bounded by count and time.
  bool rcpt_until(const std::string& address, bool refused, std::chrono::milliseconds limit) const {
    const auto end = Clock::now() + limit;
    for (int i = 0; i < 200 && Clock::now() < end; ++i) {
      const std::string r = rcpt(address);
      if (refused ? r.starts_with("550 5.1.1") : r.starts_with("250")) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  test::RunResult suppress(std::vector<std::string> args) const {
    std::vector<std::string> argv{FERRY_BINARY, "suppress", "--config", dir.file("ferry.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
};

class ClusterSuppression : public ::testing::Test {
 protected:
  void SetUp() override {
    mx_ = std::make_unique<test::FakeMx>("127.0.0.1");
    mx_->on_rcpt = [](const std::string& rcpt, int) {
      return rcpt.rfind("gone", 0) == 0 ? std::string("550 5.1.1 user unknown") : std::string("250 2.1.5 Ok");
    };
    a_.name = "node-a";
    b_.name = "node-b";
    a_.configure(redis_.url(), mx_->port());
    b_.configure(redis_.url(), mx_->port());
  }
  test::RedisServer redis_;
  std::unique_ptr<test::FakeMx> mx_;
  Node a_, b_;
};

TEST_F(ClusterSuppression, HardBounceOnOneNodeIsRefusedAtRcptByTheOther) {
  a_.start();
  b_.start();
  EXPECT_TRUE(b_.rcpt("gone1@example.test").starts_with("250"));  // not suppressed anywhere yet
  ASSERT_TRUE(a_.send("gone1@example.test").starts_with("250"));
  ASSERT_TRUE(a_.ferry->wait_for_output("to=<gone1@example.test>, suppressed (unknown_user", 20000))
      << a_.ferry->output();
  const auto bounced = Clock::now();
  ASSERT_TRUE(b_.rcpt_until("gone1@example.test", true, 5000ms)) << b_.ferry->output();
  const auto took = Clock::now() - bounced;
  EXPECT_LT(took, 2000ms) << std::chrono::duration<double>(took).count();
  EXPECT_TRUE(
      b_.ferry->wait_for_output("cluster: suppression added <gone1@example.test> from node node-a", 1000))
      << b_.ferry->output();
  std::printf("node B refused gone1@ %.0f ms after node A recorded the bounce\n",
              std::chrono::duration<double, std::milli>(took).count());
}

TEST_F(ClusterSuppression, ANodeThatWasDownCatchesUp) {
  a_.start();
  b_.start();
  ASSERT_EQ(b_.ferry->stop(SIGTERM, 20000), 0);
  ASSERT_TRUE(a_.send("gone2@example.test").starts_with("250"));
  ASSERT_TRUE(a_.ferry->wait_for_output("to=<gone2@example.test>, suppressed (unknown_user", 20000));
  // The publish is asynchronous: wait until the stream holds it before B starts again.
  const auto end = Clock::now() + 5s;
  while (Clock::now() < end &&
         test::run({"/usr/bin/redis-cli", "-p", std::to_string(redis_.port()), "XLEN", "ferry:suppression"})
                 .out.find('0') == 0)
    std::this_thread::sleep_for(50ms);
  b_.start();
  EXPECT_TRUE(b_.rcpt_until("gone2@example.test", true, 5000ms)) << b_.ferry->output();
  EXPECT_EQ(b_.suppress({"show", "gone2@example.test"}).exit_code, 0);
}

TEST_F(ClusterSuppression, ManualAddAndRemoveTravel) {
  a_.start();
  b_.start();
  const auto added = a_.suppress({"add", "gone-by-hand@example.test", "--reason", "asked to stop"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.err.find("warning"), std::string::npos) << added.err;
  EXPECT_TRUE(b_.rcpt_until("gone-by-hand@example.test", true, 5000ms)) << b_.ferry->output();
  ASSERT_EQ(b_.suppress({"remove", "gone-by-hand@example.test"}).exit_code, 0);
  EXPECT_TRUE(a_.rcpt_until("gone-by-hand@example.test", false, 5000ms)) << a_.ferry->output();
  // Redis down: the local change is made, the CLI warns it was not shared.
  redis_.kill();
  const auto alone = a_.suppress({"add", "gone-alone@example.test"});
  EXPECT_EQ(alone.exit_code, 0);
  EXPECT_NE(alone.err.find("not shared with the other nodes"), std::string::npos) << alone.err;
  EXPECT_TRUE(a_.rcpt("gone-alone@example.test").starts_with("550 5.1.1"));
}

}  // namespace
}  // namespace ferry
