// NodeRecord: the heartbeat's commands and the reading back of another node's hash.
#include "mta/cluster/NodeRecord.hpp"

#include <gtest/gtest.h>

namespace ferry::cluster {
namespace {

Reply str(std::string s) { return Reply{ReplyType::String, 0, std::move(s), {}}; }

Reply hash(const std::vector<std::pair<std::string, std::string>>& fields) {
  Reply r{ReplyType::Array, 0, "", {}};
  for (const auto& [k, v] : fields) r.elements.push_back(str(k)), r.elements.push_back(str(v));
  return r;
}

TEST(clusterNode, EncodeIsAtomicWithTtl) {
  NodeRecord n{"node-a", 3, 5, 120, "0.1.0", 1000, 2000};
  const auto cmds = encode_heartbeat(n, std::chrono::milliseconds(15000));
  ASSERT_EQ(cmds.size(), 4u);
  EXPECT_EQ(cmds[0], Argv{"MULTI"});
  EXPECT_EQ(cmds[1][0], "HSET");
  EXPECT_EQ(cmds[1][1], "ferry:node:node-a");
  EXPECT_EQ(cmds[1].size(), 2u + 2 * 6);
  EXPECT_EQ(cmds[2], (Argv{"PEXPIRE", "ferry:node:node-a", "15000"}));
  EXPECT_EQ(cmds[3], Argv{"EXEC"});
}

TEST(clusterNode, RoundTrip) {
  NodeRecord n{"node-a", 3, 5, 120, "0.1.0", 1000, 2000};
  const auto cmds = encode_heartbeat(n, std::chrono::milliseconds(1));
  Reply r{ReplyType::Array, 0, "", {}};
  for (std::size_t i = 2; i < cmds[1].size(); ++i) r.elements.push_back(str(cmds[1][i]));
  auto back = decode_node("node-a", r);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, n);
}

struct DecodeCase {
  const char* name;
  Reply reply;
  bool ok;
  std::uint64_t messages;
  std::string version;
};

TEST(clusterNode, DecodeHostile) {
  const DecodeCase cases[] = {
      {"expired key (empty)", Reply{ReplyType::Array, 0, "", {}}, false, 0, ""},
      {"not an array", str("x"), false, 0, ""},
      {"odd count", Reply{ReplyType::Array, 0, "", {str("queue_messages")}}, false, 0, ""},
      {"not a number", hash({{"queue_messages", "12x"}}), true, 0, ""},
      {"negative", hash({{"queue_messages", "-1"}}), true, 0, ""},
      {"overflow", hash({{"queue_messages", "999999999999999999999999"}}), true, 0, ""},
      {"control bytes in text", hash({{"version", "1.0\r\nX: y"}}), true, 0, "1.0X:y"},
      {"unknown fields ignored", hash({{"extra", "1"}, {"queue_messages", "7"}}), true, 7, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = decode_node("n", c.reply);
    ASSERT_EQ(r.has_value(), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(r->queue_messages, c.messages);
    EXPECT_EQ(r->version, c.version);
  }
  EXPECT_EQ(decode_node("bad\nname", hash({{"version", "1"}}))->name, "badname");
}

}  // namespace
}  // namespace ferry::cluster
