// The shared MTA-STS policy cache with the real parts: one redis-server, two `ferry serve` nodes
// sending for the fleet, dnsmasq publishing example.test's MX and _mta-sts TXT record, a real
// HTTPS server serving the policy (counting its requests) and a third `ferry serve` with a
// certificate for mx.example.test as the MX. A policy node A fetched is used by node B without
// a fetch of its own, and enforced there; with Redis down, a new TXT id, or a value in Redis
// that is not a policy, node B fetches over HTTPS as a node alone does.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "integration/support/MailClient.hpp"
#include "integration/support/StsPolicyServer.hpp"
#include "integration/support/ServeNode.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/RedisServer.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One ferry daemon in its own directory.
struct Node : test::ServeNode {
  void start(const std::string& host, const std::string& body, const std::string& wait_for = "") {
    name = hostname = host;
    write_config(body);
    test::ServeNode::start(wait_for);
  }
  // Sends one message to `rcpt` and returns this node's delivery log line for it.
  std::string deliver(const std::string& rcpt) {
    EXPECT_EQ(test::send_mail(port, "alice@a.test", {rcpt}, "Subject: sts\n\nhi\n"), "ok");
    EXPECT_TRUE(ferry->wait_for_output("to=<" + rcpt + ">", 20000)) << ferry->output();
    const std::string log = ferry->output();
    const auto at = log.find("to=<" + rcpt + ">");
    return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
  }
};

std::unique_ptr<test::DnsServer> dns_with_id(const std::string& id) {
  return std::make_unique<test::DnsServer>(std::vector<std::string>{
      "--mx-host=example.test,mx.example.test,10", "--host-record=mx.example.test,127.0.0.1",
      "--host-record=mta-sts.example.test,127.0.0.1",
      "--txt-record=_mta-sts.example.test,v=STSv1; id=" + id});
}

class ClusterSts : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(web_.start()) << web_.output();
    const std::string d = pki_.path();
    mx_.start("mx.example.test", "[tls]\ncertificate = \"" + d + "/mx.pem\"\nkey = \"" + d +
                                     "/mx.key\"\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n"
                                     "[retry]\nfirst = \"1h\"\n");
  }
  // A sending node of the fleet (named `name`), resolving through `dns`.
  void start_node(Node& n, const std::string& name, const test::DnsServer& dns) {
    n.start(name + ".test",
            "[delivery]\nport = " + std::to_string(mx_.port) +
                "\nconnect_timeout = \"2s\"\nidle_timeout = \"100ms\"\n[dns]\nservers = [\"" + dns.address() +
                "\"]\n[retry]\nfirst = \"1h\"\n[mta_sts]\nca_file = \"" + pki_.path() +
                "/ca.pem\"\nhttps_port = " + std::to_string(web_.port()) + "\n[cluster]\nredis = \"" +
                redis_.url() + "\"\nnode_name = \"" + name + "\"\nheartbeat = \"300ms\"\n",
            "cluster: redis up");
  }
  std::string redis_cli(std::vector<std::string> args) const {
    std::vector<std::string> argv{"/usr/bin/redis-cli", "-p", std::to_string(redis_.port())};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv).out;
  }
  // Node A's publish is not awaited by its delivery: wait until Redis holds the policy.
  bool shared_policy_published() const {
    const auto end = Clock::now() + 5s;
    for (int i = 0; i < 100 && Clock::now() < end; ++i) {
      if (redis_cli({"EXISTS", "ferry:sts:example.test"}).starts_with("1")) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  test::RedisServer redis_;
  test::TempDir pki_;
  test::StsPolicyServer web_{pki_};
  Node mx_, a_, b_;
};

// The key test: B delivers under the policy A fetched, without an HTTPS request of its own —
// the file served now would send B elsewhere, and B still delivers to the MX A's policy names.
TEST_F(ClusterSts, APolicyFetchedByOneNodeIsUsedByTheOther) {
  auto dns = dns_with_id("1");
  start_node(a_, "node-a", *dns);
  start_node(b_, "node-b", *dns);
  const std::string first = a_.deliver("one@example.test");
  EXPECT_NE(first.find("status=sent"), std::string::npos) << a_.ferry->output();
  EXPECT_NE(first.find("tls_policy=sts-enforce"), std::string::npos) << first;
  EXPECT_TRUE(a_.logged("mta-sts: example.test: policy id 1 fetched, mode enforce")) << a_.ferry->output();
  ASSERT_EQ(web_.requests(), 1) << web_.output();
  ASSERT_TRUE(shared_policy_published()) << a_.ferry->output();
  const std::string ttl = redis_cli({"PTTL", "ferry:sts:example.test"});
  EXPECT_GT(std::stoll(ttl), 86'000'000) << ttl;  // what is left of max_age 86400 s
  EXPECT_LE(std::stoll(ttl), 86'400'000) << ttl;
  web_.set_policy(test::sts_policy("enforce", "*.elsewhere.test"));  // a fetch would now refuse the MX
  const auto t0 = Clock::now();
  const std::string second = b_.deliver("two@example.test");
  std::printf("node B delivered under the shared policy in %.0f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  EXPECT_NE(second.find("status=sent"), std::string::npos) << b_.ferry->output();
  EXPECT_NE(second.find("tls_policy=sts-enforce"), std::string::npos) << second;
  EXPECT_TRUE(
      b_.logged("mta-sts: example.test: policy id 1 from the shared cache (fetched by node-a), mode enforce"))
      << b_.ferry->output();
  EXPECT_FALSE(b_.logged("fetched, mode")) << b_.ferry->output();
  EXPECT_EQ(web_.requests(), 1) << web_.output();
  // B keeps it in its own table like a fetched policy: `ferry sts show` on B has it.
  auto show = test::run({FERRY_BINARY, "sts", "--config", b_.dir.file("ferry.toml"), "show", "example.test"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("mx: mx.example.test"), std::string::npos) << show.out;
}

// The shared policy is enforced on B: A fetched a policy no MX matches (deferred 4.7.5); B defers
// the same way although the file served now would let it deliver.
TEST_F(ClusterSts, ASharedEnforcePolicyRefusesANonMatchingMxOnTheOtherNode) {
  web_.set_policy(test::sts_policy("enforce", "*.elsewhere.test"));
  auto dns = dns_with_id("1");
  start_node(a_, "node-a", *dns);
  start_node(b_, "node-b", *dns);
  EXPECT_NE(a_.deliver("one@example.test").find("dsn=4.7.5"), std::string::npos) << a_.ferry->output();
  ASSERT_TRUE(shared_policy_published()) << a_.ferry->output();
  web_.set_policy(test::sts_policy("enforce", "mx.example.test"));
  const std::string line = b_.deliver("two@example.test");
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << b_.ferry->output();
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("no MX host matches the MTA-STS policy of example.test"), std::string::npos) << line;
  EXPECT_TRUE(b_.logged("from the shared cache (fetched by node-a)")) << b_.ferry->output();
  EXPECT_EQ(web_.requests(), 1) << web_.output();
  EXPECT_EQ(mx_.ferry->output().find("nrcpt="), std::string::npos) << mx_.ferry->output();
}

// Redis down: B fetches over HTTPS as a node alone does, without waiting on Redis.
TEST_F(ClusterSts, RedisDownTheOtherNodeFetchesItself) {
  auto dns = dns_with_id("1");
  start_node(a_, "node-a", *dns);
  start_node(b_, "node-b", *dns);
  EXPECT_NE(a_.deliver("one@example.test").find("status=sent"), std::string::npos) << a_.ferry->output();
  ASSERT_TRUE(shared_policy_published()) << a_.ferry->output();
  redis_.kill();
  ASSERT_TRUE(b_.ferry->wait_for_output("cluster: redis unreachable", 10000)) << b_.ferry->output();
  const auto t0 = Clock::now();
  const std::string line = b_.deliver("two@example.test");
  const auto took = Clock::now() - t0;
  EXPECT_NE(line.find("status=sent"), std::string::npos) << b_.ferry->output();
  EXPECT_NE(line.find("tls_policy=sts-enforce"), std::string::npos) << line;
  EXPECT_TRUE(b_.logged("mta-sts: example.test: policy id 1 fetched, mode enforce")) << b_.ferry->output();
  EXPECT_FALSE(b_.logged("from the shared cache")) << b_.ferry->output();
  EXPECT_EQ(web_.requests(), 2) << web_.output();
  EXPECT_LT(took, 10s);
  std::printf("node B delivered with Redis down in %.0f ms (its own HTTPS fetch included)\n",
              std::chrono::duration<double, std::milli>(took).count());
}

// A policy shared under an older id is not used: B sees a new TXT id and fetches (and publishes
// the new policy for the others).
TEST_F(ClusterSts, ANewTxtIdIsFetchedNotTakenFromTheSharedCache) {
  auto old_dns = dns_with_id("1");
  auto new_dns = dns_with_id("2");
  start_node(a_, "node-a", *old_dns);
  start_node(b_, "node-b", *new_dns);
  EXPECT_NE(a_.deliver("one@example.test").find("status=sent"), std::string::npos) << a_.ferry->output();
  ASSERT_TRUE(shared_policy_published()) << a_.ferry->output();
  EXPECT_NE(b_.deliver("two@example.test").find("status=sent"), std::string::npos) << b_.ferry->output();
  EXPECT_TRUE(b_.logged("mta-sts: example.test: policy id 2 fetched")) << b_.ferry->output();
  EXPECT_EQ(web_.requests(), 2) << web_.output();
  const auto end = Clock::now() + 5s;
  while (Clock::now() < end &&
         redis_cli({"GET", "ferry:sts:example.test"}).find("id=2\n") == std::string::npos)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(redis_cli({"GET", "ferry:sts:example.test"}).find("node=node-b\n"), std::string::npos);
}

// Another node's word gone wrong (here written by hand): refused, logged, and B fetches.
TEST_F(ClusterSts, AValueInRedisThatIsNotAPolicyIsRefused) {
  auto dns = dns_with_id("1");
  start_node(b_, "node-b", *dns);
  redis_cli({"SET", "ferry:sts:example.test",
             "v=ferry-sts1\nid=1\nfetched=1\nnode=evil\n\nversion: STSv1\nmode: enforce\nmax_age: 86400\n"});
  const std::string line = b_.deliver("one@example.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << b_.ferry->output();
  EXPECT_TRUE(b_.logged("mta-sts: example.test: the shared cache's policy is refused (invalid policy"))
      << b_.ferry->output();
  EXPECT_TRUE(b_.logged("policy id 1 fetched")) << b_.ferry->output();
  EXPECT_EQ(web_.requests(), 1) << web_.output();
}

// `ferry sts forget` purges the shared copy too (a policy changed without a new id must not come
// back from Redis), and `ferry sts refresh` shares what it fetched.
TEST_F(ClusterSts, StsForgetAndRefreshReachTheSharedCache) {
  auto dns = dns_with_id("1");
  start_node(a_, "node-a", *dns);
  EXPECT_NE(a_.deliver("one@example.test").find("status=sent"), std::string::npos) << a_.ferry->output();
  ASSERT_TRUE(shared_policy_published()) << a_.ferry->output();
  const auto sts = [&](const std::string& verb) {
    return test::run({FERRY_BINARY, "sts", "--config", a_.dir.file("ferry.toml"), verb, "example.test"});
  };
  const auto forget = sts("forget");
  EXPECT_EQ(forget.exit_code, 0) << forget.err;
  EXPECT_NE(forget.out.find("example.test: shared policy forgotten"), std::string::npos) << forget.out;
  EXPECT_TRUE(redis_cli({"EXISTS", "ferry:sts:example.test"}).starts_with("0"));
  const auto refresh = sts("refresh");
  EXPECT_EQ(refresh.exit_code, 0) << refresh.out << refresh.err;
  EXPECT_EQ(web_.requests(), 2) << web_.output();
  const std::string value = redis_cli({"GET", "ferry:sts:example.test"});
  EXPECT_NE(value.find("id=1\n"), std::string::npos) << value;
  EXPECT_NE(value.find("node=node-a\n"), std::string::npos) << value;
  // Redis down: the local change is made, the command warns it was not shared.
  redis_.kill();
  const auto alone = sts("forget");
  EXPECT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_NE(alone.err.find("not shared with the other nodes"), std::string::npos) << alone.err;
}

}  // namespace
}  // namespace ferry
