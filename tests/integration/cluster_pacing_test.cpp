// Shared pacing with the real parts: `ferry serve` nodes, one redis-server, dnsmasq serving the
// MX records and a fake MX that refuses messages above N per window like a provider does.
//  - three nodes configured with the provider's rate send it that rate together, not three times;
//  - Redis killed mid-run: every node paces alone at its share, nothing is lost or stalls, and
//    the nodes share again once Redis is back;
//  - a node killed while it holds the only connection slot: the others get the slot once its
//    lease runs out, and its own queue delivers after its restart.
// Each test prints its trace. FERRY_TEST_NO_CLUSTER=1 runs the first without [cluster] (each
// node alone), for comparison.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/MailClient.hpp"
#include "integration/support/ServeNode.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"
#include "support/RateLimitedMx.hpp"
#include "support/RedisServer.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One SMTP session that sends `count` messages, one recipient each: <prefix><i>@example.test.
std::string send_many(int port, const std::string& prefix, int count) {
  const std::string script = "import smtplib\ns=smtplib.SMTP('127.0.0.1'," + std::to_string(port) +
                             ",timeout=30)\nfor i in range(" + std::to_string(count) +
                             "):\n  r=s.sendmail('app@sender.test',['" + prefix +
                             "%d@example.test'%i],'Subject: m%d\\r\\n\\r\\nbody\\r\\n'%i)\n"
                             "  assert not r, r\ns.quit()\nprint('ok')\n";
  auto res = test::run({"/usr/bin/env", "python3", "-c", script}, "", 90);
  return res.exit_code == 0 ? res.out.substr(0, res.out.find('\n')) : res.err;
}

struct Node : test::ServeNode {
  void configure(const std::string& cluster, int mx_port, const std::string& dns, const std::string& pace) {
    write_config(
        "[retry]\nfirst = \"1s\"\nmax_interval = \"1s\"\nafter_greylist = \"1s\"\n"
        "[delivery]\nport = " +
        std::to_string(mx_port) + "\nconnect_timeout = \"2s\"\n[dns]\nservers = [\"" + dns + "\"]\n" + pace +
        cluster);
  }
  // Started; with [cluster], once its pacing is shared (so no node starts alone).
  void start(bool shared) { test::ServeNode::start(shared ? "pace: pacing is shared through Redis" : ""); }
};

std::string cluster_table(const test::RedisServer& redis, const std::string& name, int nodes,
                          const std::string& lease = "30s") {
  return "[cluster]\nredis = \"" + redis.url() + "\"\nnode_name = \"" + name +
         "\"\nheartbeat = \"300ms\"\nexpected_nodes = " + std::to_string(nodes) + "\nlease = \"" + lease +
         "\"\n";
}

class ClusterPacing : public ::testing::Test {
 protected:
  void SetUp() override {
    mx_ = std::make_unique<test::FakeMx>("127.0.0.2");
    dns_ = std::make_unique<test::DnsServer>(test::loopback_mx_zone());
    redis_ = std::make_unique<test::RedisServer>();
  }
  // A session still held in DATA (a test that failed early) lets go before anything goes.
  void TearDown() override {
    std::lock_guard lock(held_.m);
    held_.release = true;
    held_.cv.notify_all();
  }
  Node& add(const std::string& name, const std::string& pace, const std::string& cluster) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->name = name;
    nodes_.back()->configure(cluster, mx_->port(), dns_->address(), pace);
    return *nodes_.back();
  }
  // Sends `count` messages through every node at once (one session each).
  void send_through_all(int count) {
    std::vector<std::thread> senders;
    std::vector<std::string> results(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      senders.emplace_back([&, i] { results[i] = send_many(nodes_[i]->port, nodes_[i]->name + "-", count); });
    for (auto& t : senders) t.join();
    for (const auto& r : results) ASSERT_EQ(r, "ok");
  }
  template <typename F>
  bool wait_until(F done, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    for (int i = 0; i < 2000 && Clock::now() < end; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }
  // Per second: messages each node got accepted, and refusals.
  void print_trace(const std::vector<test::RateLimitedMx::Event>& events, const char* title) {
    int seconds = 0;
    for (const auto& e : events) seconds = std::max(seconds, static_cast<int>(e.at_s) + 1);
    std::printf("%s\n  second", title);
    for (const auto& n : nodes_) std::printf("  %8s", n->name.c_str());
    std::printf("  fleet  refused(421)\n");
    for (int s = 0; s < seconds; ++s) {
      std::printf("  %6d", s);
      int fleet = 0, refused = 0;
      for (const auto& n : nodes_) {
        int ok = 0;
        for (const auto& e : events)
          if (static_cast<int>(e.at_s) == s && e.accepted && e.rcpt.rfind(n->name + "-", 0) == 0) ++ok;
        fleet += ok;
        std::printf("  %8d", ok);
      }
      for (const auto& e : events)
        if (static_cast<int>(e.at_s) == s && !e.accepted) ++refused;
      std::printf("  %5d  %12d\n", fleet, refused);
    }
    std::fflush(stdout);
  }

  // What the fake MX's sessions call into is declared before the nodes, so the nodes stop
  // first however a test ends.
  std::unique_ptr<test::FakeMx> mx_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::RedisServer> redis_;
  std::unique_ptr<test::RateLimitedMx> limited_;
  struct Held {
    std::mutex m;
    std::condition_variable cv;
    bool holding = false, release = false;
    int attempts = 0;
    Clock::time_point other_at{};
  } held_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// The provider refuses above N = 20/s (1,200/min, counted in sliding windows of 10 s); every node is
// configured a little under it (19/s), as its admin would from the provider's published rate.
// Together the fleet stays under N, and within 10% of it: alone, each node would send 19/s.
TEST_F(ClusterPacing, ThreeNodesSendOneDestinationItsRateTogether) {
  constexpr int kLimit = 20;    // per second, the provider's
  constexpr int kRule = 19;     // per second, each node's [[pace]] rule
  constexpr int kPerNode = 70;  // messages through each node
  // The provider counts in sliding windows of 10 s (200 per window): a real one counts per
  // minute, which forgives the jitter of a loaded machine's deliveries as this does.
  constexpr int kWindowS = 10;
  limited_ = std::make_unique<test::RateLimitedMx>(*mx_, kLimit * kWindowS, std::chrono::seconds(kWindowS));
  test::RateLimitedMx& limited = *limited_;
  const bool alone = std::getenv("FERRY_TEST_NO_CLUSTER") != nullptr;
  test::RedisServer& redis = *redis_;
  // A domain rule: an MX rule applies once a node has resolved the domain's MX, so a node's
  // first messages would go under the domain's own (unlimited) key.
  const std::string pace = "[[pace]]\ndomain = \"example.test\"\nrate = \"" + std::to_string(kRule) +
                           "/s\"\nburst = 1\n"
                           "backoff_period = \"2s\"\n";
  for (const char* name : {"node-a", "node-b", "node-c"})
    add(name, pace, alone ? "" : cluster_table(redis, name, 3));
  for (auto& n : nodes_) ASSERT_NO_FATAL_FAILURE(n->start(!alone));
  send_through_all(kPerNode);
  const int total = kPerNode * static_cast<int>(nodes_.size());
  ASSERT_TRUE(wait_until([&] { return static_cast<int>(limited.accepted_by_rcpt().size()) == total; }, 60s))
      << limited.accepted_by_rcpt().size() << " of " << total;
  const auto events = limited.events();
  print_trace(events, alone
                          ? "fleet trace WITHOUT [cluster] (each node alone at 19/s; provider: 200 per 10 s)"
                          : "fleet trace with [cluster] (shared 19/s; provider: 200 per 10 s)");

  double first = -1, last = 0;
  int accepted = 0, refused = 0;
  for (const auto& e : events) {
    if (!e.accepted) {
      ++refused;
      continue;
    }
    if (first < 0) first = e.at_s;
    last = e.at_s;
    ++accepted;
  }
  const double fleet_rate = (accepted - 1) / std::max(0.001, last - first);
  std::printf("fleet: %d accepted in %.2f s = %.2f/s (limit %d/s), %d refused\n", accepted, last - first,
              fleet_rate, kLimit, refused);
  std::fflush(stdout);
  for (const auto& [rcpt, n] : limited.accepted_by_rcpt()) EXPECT_EQ(n, 1) << rcpt;
  EXPECT_EQ(accepted, total);
  EXPECT_LE(fleet_rate, kLimit) << "the fleet sent above the provider's limit";
  EXPECT_GE(fleet_rate, kLimit * 0.9) << "the fleet sent well under the provider's limit";
  EXPECT_LE(refused, 3) << "the provider refused the fleet";
}

// Redis dies while two nodes deliver: each goes on alone at half the rate (expected_nodes = 2),
// so the fleet keeps its pace and loses nothing; when Redis is back they share again.
TEST_F(ClusterPacing, RedisKilledMidRunNodesPaceAloneThenShareAgain) {
  constexpr int kRate = 20;
  constexpr int kPerNode = 60;
  test::RateLimitedMx limited(*mx_, 0);  // no limit: the test watches the pace
  test::RedisServer& redis = *redis_;
  const std::string pace = "[[pace]]\ndomain = \"example.test\"\nrate = \"20/s\"\nburst = 1\n";
  for (const char* name : {"node-a", "node-b"}) add(name, pace, cluster_table(redis, name, 2));
  for (auto& n : nodes_) ASSERT_NO_FATAL_FAILURE(n->start(true));
  send_through_all(kPerNode);
  const int total = kPerNode * 2;
  auto delivered = [&] { return static_cast<int>(limited.accepted_by_rcpt().size()); };
  ASSERT_TRUE(wait_until([&] { return delivered() >= total / 4; }, 30s));
  redis.kill();
  const double killed_at = limited.now_s();
  const int before_kill = delivered();
  for (auto& n : nodes_)
    EXPECT_TRUE(n->ferry->wait_for_output("pace: Redis unreachable: each node paces alone at 1/2", 10000))
        << n->ferry->output();
  ASSERT_TRUE(wait_until([&] { return delivered() == total; }, 40s)) << delivered() << " of " << total;
  const auto events = limited.events();
  print_trace(events, "fleet trace, Redis killed mid-run (shared 20/s; alone 10/s each)");
  double last = killed_at;
  for (const auto& e : events) last = std::max(last, e.at_s);
  const double outage_rate = (total - before_kill) / std::max(0.001, last - killed_at);
  std::printf("Redis killed at %.2f s after %d deliveries; the other %d took %.2f s = %.2f/s\n", killed_at,
              before_kill, total - before_kill, last - killed_at, outage_rate);
  std::fflush(stdout);
  for (const auto& [rcpt, n] : limited.accepted_by_rcpt()) EXPECT_EQ(n, 1) << rcpt;
  // Not stalled waiting on Redis (alone, the fleet still sends 2 x 10/s), and still paced.
  EXPECT_GE(outage_rate, kRate * 0.7);
  EXPECT_LE(outage_rate, kRate * 1.3);
  for (auto& n : nodes_) EXPECT_EQ(n->ferry->output().find("status=bounced"), std::string::npos);

  ASSERT_TRUE(redis.start());
  for (auto& n : nodes_)
    EXPECT_TRUE(n->ferry->wait_for_output("pace: Redis is back: pacing is shared again", 15000))
        << n->ferry->output();
  const auto status =
      test::run({FERRY_BINARY, "cluster", "status", "--config", nodes_[0]->dir.file("ferry.toml")});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
}

// A node dies holding the destination's only connection slot: the other node's delivery waits
// for that slot until the dead node's lease runs out (never longer), and the dead node's own
// message is delivered after its restart.
TEST_F(ClusterPacing, ANodeKilledFreesItsSlotWithinTheLease) {
  auto& m = held_.m;
  auto& cv = held_.cv;
  auto& holding = held_.holding;
  auto& release = held_.release;
  auto& held_attempts = held_.attempts;
  auto& other_at = held_.other_at;
  mx_->on_data = [&](const test::ReceivedMessage& msg) {
    std::unique_lock lock(m);
    const std::string rcpt = msg.rcpt_to.empty() ? "" : msg.rcpt_to.front();
    if (rcpt == "other0@example.test") other_at = Clock::now();
    if (rcpt != "held0@example.test" || ++held_attempts > 1) return std::string("250 2.0.0 Ok");
    holding = true;
    cv.notify_all();
    cv.wait_for(lock, 30s, [&] { return release; });
    return std::string("451 4.3.0 try again later");
  };
  test::RedisServer& redis = *redis_;
  const std::string pace = "[[pace]]\ndomain = \"example.test\"\nconnections = 1\n";
  constexpr auto kLease = 2000ms;
  Node& a = add("node-a", pace, cluster_table(redis, "node-a", 2, "2s"));
  Node& b = add("node-b", pace, cluster_table(redis, "node-b", 2, "2s"));
  ASSERT_NO_FATAL_FAILURE(a.start(true));
  ASSERT_NO_FATAL_FAILURE(b.start(true));
  ASSERT_EQ(send_many(a.port, "held", 1), "ok");
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return holding; })) << a.ferry->output();
  }
  ASSERT_EQ(send_many(b.port, "other", 1), "ok");
  // B waits for the slot A holds (its lease is renewed while A lives).
  ASSERT_TRUE(b.ferry->wait_for_output("queued", 5000));
  ASSERT_EQ(a.ferry->stop(SIGKILL, 10000), 128 + SIGKILL);
  const auto killed = Clock::now();
  {
    std::lock_guard lock(m);
    release = true;  // the dead node's session ends; its message was not accepted
    cv.notify_all();
  }
  EXPECT_EQ(other_at, Clock::time_point{}) << "node B did not wait for the slot node A held";
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(m);
        return other_at != Clock::time_point{};
      },
      15s))
      << b.ferry->output();
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(other_at - killed);
  std::printf("node B got the slot %lld ms after node A was killed (lease %lld ms)\n",
              static_cast<long long>(waited.count()), static_cast<long long>(kLease.count()));
  std::fflush(stdout);
  EXPECT_LE(waited, kLease + 1500ms) << "the dead node's slot outlived its lease";
  // A's lease was renewed at most a third of a lease before it died.
  EXPECT_GE(waited, kLease / 3) << "the slot was free before the dead node's lease ran out";

  // Node A again: its queue still holds held0@, delivered now.
  ASSERT_NO_FATAL_FAILURE(a.start(true));
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(m);
        return held_attempts >= 2;
      },
      20s))
      << a.ferry->output();
  ASSERT_TRUE(a.ferry->wait_for_output("to=<held0@example.test>", 10000)) << a.ferry->output();
  EXPECT_NE(a.ferry->output().find("status=sent"), std::string::npos) << a.ferry->output();
}

}  // namespace
}  // namespace ferry
