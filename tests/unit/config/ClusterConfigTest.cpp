// [cluster]: absent by default, defaults when present, the Redis URL forms, errors, rendering.
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"
#include "mta/config/Config.hpp"

namespace ferry::config {
namespace {

using test::error_of;
using test::load;

TEST(configCluster, AbsentByDefault) {
  EXPECT_FALSE(load("").cluster.has_value());
  EXPECT_EQ(render(load("")).find("[cluster]"), std::string::npos);
}

TEST(configCluster, DefaultsWhenPresent) {
  const Config c = load("[cluster]\n");
  ASSERT_TRUE(c.cluster);
  EXPECT_EQ(c.cluster->redis, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(c.cluster->endpoint.host, "127.0.0.1");
  EXPECT_EQ(c.cluster->endpoint.port, 6379);
  EXPECT_EQ(c.cluster->timeout, std::chrono::milliseconds(50));
  EXPECT_EQ(c.cluster->heartbeat, std::chrono::seconds(5));
  EXPECT_EQ(c.cluster->expected_nodes, 1u);
  EXPECT_EQ(c.cluster->lease, std::chrono::seconds(30));
  EXPECT_EQ(effective_node_name(*c.cluster, "mx1.example.com"), "mx1.example.com");
  EXPECT_EQ(effective_node_name(*c.cluster, "bad host\n"), "badhost");
}

TEST(configCluster, Overlay) {
  const Config c = load(
      "[cluster]\nredis = \"unix:/run/redis.sock?db=3\"\npassword_file = \"/etc/ferry/redis.pw\"\n"
      "node_name = \"node-a\"\ntimeout = \"20ms\"\nexpected_nodes = 3\nheartbeat = \"1s\"\nlease = \"2s\"\n");
  ASSERT_TRUE(c.cluster);
  EXPECT_TRUE(c.cluster->endpoint.is_unix);
  EXPECT_EQ(c.cluster->endpoint.path, "/run/redis.sock");
  EXPECT_EQ(c.cluster->endpoint.db, 3);
  EXPECT_EQ(c.cluster->password_file, "/etc/ferry/redis.pw");
  EXPECT_EQ(effective_node_name(*c.cluster, "host"), "node-a");
  EXPECT_EQ(c.cluster->timeout, std::chrono::milliseconds(20));
  EXPECT_EQ(c.cluster->expected_nodes, 3u);
  EXPECT_EQ(c.cluster->heartbeat, std::chrono::seconds(1));
  EXPECT_EQ(c.cluster->lease, std::chrono::seconds(2));
}

TEST(configCluster, Errors) {
  EXPECT_EQ(error_of("[cluster]\nredis = \"redis://:secret@10.0.0.1:6379/0\"\n"),
            "t.toml:2:9: cluster.redis: a password in the URL is refused: put it in cluster.password_file");
  EXPECT_EQ(error_of("[cluster]\nredis = \"http://x\"\n"),
            "t.toml:2:9: cluster.redis: expected redis://host:port/db or unix:/path/to/redis.sock");
  EXPECT_EQ(error_of("[cluster]\nnode_name = \"a b\"\n"),
            "t.toml:2:13: cluster.node_name: may hold only letters, digits, '.', '-' and '_'");
  EXPECT_EQ(error_of("[cluster]\nnode_name = \"" + std::string(65, 'a') + "\"\n"),
            "t.toml:2:13: cluster.node_name: must be at most 64 characters");
  EXPECT_EQ(error_of("[cluster]\ntimeout = \"0s\"\n"),
            "t.toml:2:11: cluster.timeout: must be greater than 0");
  EXPECT_EQ(error_of("[cluster]\ntimeout = \"11s\"\n"), "t.toml:2:11: cluster.timeout: must be at most 10s");
  EXPECT_EQ(error_of("[cluster]\nexpected_nodes = 0\n").rfind("t.toml:2:18: cluster.expected_nodes: ", 0),
            0u);
  EXPECT_EQ(error_of("[cluster]\nlease = \"500ms\"\n"), "t.toml:2:9: cluster.lease: must be at least 1s");
  EXPECT_EQ(error_of("[cluster]\nheartbeet = \"1s\"\n"),
            "t.toml:2:1: cluster.heartbeet: unknown key; did you mean \"heartbeat\"?");
}

TEST(configCluster, RenderedRoundTrip) {
  const Config c =
      load("[cluster]\nredis = \"redis://[::1]:7000/2\"\nnode_name = \"n1\"\ntimeout = \"75ms\"\n");
  const std::string out = render(c);
  EXPECT_NE(out.find("[cluster]\nredis = \"redis://[::1]:7000/2\"\n"), std::string::npos) << out;
  EXPECT_EQ(load_config_text(out, "r.toml").value(), c);
}

// The URL forms, table-driven: text -> (unix, host or path, port, db) or the error's start.
struct UrlCase {
  const char* text;
  bool ok;
  bool is_unix;
  const char* host_or_path;
  int port;
  int db;
};

TEST(configCluster, RedisUrls) {
  const UrlCase cases[] = {
      {"redis://127.0.0.1:6379/0", true, false, "127.0.0.1", 6379, 0},
      {"redis://redis.internal", true, false, "redis.internal", 6379, 0},
      {"redis://10.1.2.3:7001/15", true, false, "10.1.2.3", 7001, 15},
      {"redis://[::1]:6380/1", true, false, "::1", 6380, 1},
      {"redis://host/", true, false, "host", 6379, 0},
      {"unix:/run/redis/redis.sock", true, true, "/run/redis/redis.sock", 0, 0},
      {"unix:/tmp/r.sock?db=4", true, true, "/tmp/r.sock", 0, 4},
      {"redis://:pw@host:6379/0", false, false, "", 0, 0},
      {"redis://user:pw@host", false, false, "", 0, 0},
      {"redis://host:0/0", false, false, "", 0, 0},
      {"redis://host:70000/0", false, false, "", 0, 0},
      {"redis://host:6379/x", false, false, "", 0, 0},
      {"redis://:6379/0", false, false, "", 0, 0},
      {"unix:relative.sock", false, false, "", 0, 0},
      {"unix:/tmp/r.sock?password=x", false, false, "", 0, 0},
      {"rediss://host:6379/0", false, false, "", 0, 0},
      {"redis://ho st/0", false, false, "", 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parse_redis_url(c.text);
    ASSERT_EQ(r.ok(), c.ok) << (r ? std::string() : r.error());
    if (!c.ok) continue;
    EXPECT_EQ(r->is_unix, c.is_unix);
    EXPECT_EQ(c.is_unix ? r->path : r->host, c.host_or_path);
    if (!c.is_unix) {
      EXPECT_EQ(r->port, c.port);
    }
    EXPECT_EQ(r->db, c.db);
  }
}

}  // namespace
}  // namespace ferry::config
