// [cluster] with the real parts: a private redis-server and `ferry serve` nodes. Heartbeats list
// the live nodes in `ferry cluster status`, a stopped node drops out after its TTL, and Redis
// going away is logged and measured but never stops mail.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "integration/support/MailClient.hpp"
#include "integration/support/OpsSupport.hpp"
#include "integration/support/ServeNode.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/RedisServer.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Node : test::ServeNode {
  void configure(const std::string& redis_url, const std::string& node, const std::string& extra = "") {
    name = node;
    write_config(
        "[retry]\nfirst = \"1h\"\n"
        // Every delivery goes to a closed loopback port: deferred, kept queued, and
        // never a packet beyond this host.
        "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
            std::to_string(test::free_port()) + "\"\n[cluster]\nredis = \"" + redis_url +
            "\"\nnode_name = \"" + node + "\"\nheartbeat = \"300ms\"\n" + extra,
        "127.0.0.1:0");
  }
  test::RunResult status() const {
    return test::run({FERRY_BINARY, "cluster", "--config", dir.file("ferry.toml"), "status", "--json"});
  }
  std::optional<double> metric(const std::string& metric_name) const {
    const int metrics_port = test::port_after(ferry->output(), "metrics on http://127.0.0.1:");
    if (metrics_port <= 0) return std::nullopt;
    return test::sample(test::http_get(metrics_port, "/metrics").second, metric_name);
  }
};

// Polls `ferry cluster status --json` until `pred(output)` holds; bounded by count and time.
template <typename Pred>
test::RunResult status_until(const Node& n, Pred pred, std::chrono::milliseconds limit = 10000ms) {
  test::RunResult r;
  const auto end = Clock::now() + limit;
  for (int i = 0; i < 400 && Clock::now() < end; ++i) {
    r = n.status();
    if (r.exit_code == 0 && pred(r.out)) return r;
    std::this_thread::sleep_for(50ms);
  }
  return r;
}

bool has(const std::string& out, const std::string& name) {
  return out.find("\"name\":\"" + name + "\"") != std::string::npos;
}

TEST(cluster, TwoNodesListedAndAStoppedOneExpires) {
  test::RedisServer redis;
  Node a, b;
  a.configure(redis.url(), "node-a");
  b.configure(redis.url(), "node-b");
  a.start();
  b.start();
  ASSERT_TRUE(a.ferry->wait_for_output("cluster: redis up (127.0.0.1:" + std::to_string(redis.port()), 10000))
      << a.ferry->output();
  auto both = status_until(a, [](const std::string& o) { return has(o, "node-a") && has(o, "node-b"); });
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_TRUE(has(both.out, "node-a") && has(both.out, "node-b")) << both.out;
  EXPECT_NE(both.out.find("\"redis_latency_us\":"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("\"version\":\"0.1.0\""), std::string::npos) << both.out;
  EXPECT_EQ(a.metric("ferry_cluster_up"), 1.0);

  // A message queued on A shows in A's figures at its next heartbeat.
  test::Smtp s(a.port);
  ASSERT_TRUE(s.reply().starts_with("220"));
  ASSERT_TRUE(s.cmd("EHLO client.test").starts_with("250"));
  ASSERT_TRUE(s.message("a@client.test", "x@example.test", "Subject: t\r\n\r\nhi").starts_with("250"));
  auto counted = status_until(a, [](const std::string& o) {
    return o.find("\"name\":\"node-a\",\"queue_messages\":1,") != std::string::npos;
  });
  EXPECT_NE(counted.out.find("\"name\":\"node-a\",\"queue_messages\":1,\"queue_recipients\":1"),
            std::string::npos)
      << counted.out << a.ferry->output();

  // A reload keeps the running [cluster]: the link and the name it writes under need a restart.
  a.configure(redis.url(), "node-z");
  ::kill(a.ferry->pid(), SIGHUP);
  ASSERT_TRUE(a.ferry->wait_for_output("reload: [cluster] changed: applied at the next restart", 10000))
      << a.ferry->output();

  EXPECT_EQ(b.ferry->stop(SIGTERM, 20000), 0);
  // Its key lives three heartbeats (900 ms) after the last one, then only A is listed.
  auto gone = status_until(a, [](const std::string& o) { return has(o, "node-a") && !has(o, "node-b"); });
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_TRUE(has(gone.out, "node-a") && !has(gone.out, "node-b") && !has(gone.out, "node-z")) << gone.out;
  EXPECT_EQ(a.ferry->stop(SIGTERM, 20000), 0);
}

TEST(cluster, RedisDownIsNotAFailureOfMail) {
  test::RedisServer redis;
  Node a;
  a.configure(redis.url(), "node-a", "timeout = \"50ms\"\n");
  a.start();
  ASSERT_TRUE(a.ferry->wait_for_output("cluster: redis up", 10000)) << a.ferry->output();
  redis.kill();
  ASSERT_TRUE(a.ferry->wait_for_output("cluster: redis unreachable (127.0.0.1:", 10000)) << a.ferry->output();
  EXPECT_NE(a.ferry->output().find("falling back to local state"), std::string::npos);
  // The CLI says Redis cannot be reached: EX_UNAVAILABLE.
  const auto down = a.status();
  EXPECT_EQ(down.exit_code, 69) << down.out << down.err;
  EXPECT_EQ(a.metric("ferry_cluster_up"), 0.0);
  // Mail is accepted as ever, and quickly.
  test::Smtp s(a.port);
  ASSERT_TRUE(s.reply().starts_with("220"));
  ASSERT_TRUE(s.cmd("EHLO client.test").starts_with("250"));
  const auto t0 = Clock::now();
  const std::string reply = s.message("a@client.test", "x@example.test", "Subject: t\r\n\r\nhi");
  EXPECT_TRUE(reply.starts_with("250")) << reply;
  EXPECT_LT(Clock::now() - t0, 2s);
  // One line per outage, not one per attempt.
  std::this_thread::sleep_for(500ms);  // several reconnect attempts happen meanwhile
  const std::string log = a.ferry->output();
  EXPECT_EQ(log.find("cluster: redis unreachable"), log.rfind("cluster: redis unreachable")) << log;
  // Back: the link reconnects, says so once more, and the node is listed again.
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(a.ferry->wait_for_output("cluster: redis up", 10000));
  auto back = status_until(a, [](const std::string& o) { return has(o, "node-a"); });
  EXPECT_TRUE(has(back.out, "node-a")) << back.out << back.err;
  EXPECT_EQ(a.metric("ferry_cluster_up"), 1.0);
  EXPECT_EQ(a.ferry->stop(SIGTERM, 20000), 0);
}

TEST(cluster, PasswordFileAndConfigErrors) {
  test::RedisServer redis("cluster-pass-1");
  Node a;
  a.dir.write("redis.pw", "cluster-pass-1\n");
  ::chmod(a.dir.file("redis.pw").c_str(), 0600);
  a.configure(redis.url(), "node-a", "password_file = \"" + a.dir.file("redis.pw") + "\"\n");
  auto ok = status_until(a, [](const std::string&) { return true; });
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"nodes\":[]"), std::string::npos) << ok.out;
  // Readable by others: refused before anything connects, by the CLI and the daemon alike.
  ::chmod(a.dir.file("redis.pw").c_str(), 0644);
  const auto open = a.status();
  EXPECT_EQ(open.exit_code, 78) << open.err;
  EXPECT_NE(open.err.find("readable by others"), std::string::npos) << open.err;
  EXPECT_EQ(test::run({FERRY_BINARY, "serve", "--config", a.dir.file("ferry.toml")}, "", 30).exit_code, 78);
  // No [cluster]: nothing to ask.
  a.dir.write("plain.toml", "user = \"root\"\n[queue]\npath = \"" + a.dir.file("q") + "\"\n");
  EXPECT_EQ(test::run({FERRY_BINARY, "cluster", "--config", a.dir.file("plain.toml"), "status"}).exit_code,
            78);
}

}  // namespace
}  // namespace ferry
