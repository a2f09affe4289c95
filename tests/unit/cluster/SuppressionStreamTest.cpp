// SuppressionStream: the XADD of an entry or removal, and XREAD replies read as untrusted input.
#include "mta/cluster/SuppressionStream.hpp"

#include <gtest/gtest.h>

namespace ferry::cluster {
namespace {

Reply str(std::string s) { return Reply{ReplyType::String, 0, std::move(s), {}}; }
Reply arr(std::vector<Reply> e) { return Reply{ReplyType::Array, 0, "", std::move(e)}; }

Reply fields_of(const Argv& xadd) {
  std::vector<Reply> f;
  for (std::size_t i = 6; i < xadd.size(); ++i) f.push_back(str(xadd[i]));  // after XADD key MAXLEN ~ N *
  return arr(std::move(f));
}

Reply xread(std::vector<std::pair<std::string, Reply>> messages) {
  std::vector<Reply> ms;
  for (auto& [id, f] : messages) ms.push_back(arr({str(id), std::move(f)}));
  return arr({arr({str(kSuppressionStream), arr(std::move(ms))})});
}

SuppressionEvent bounce(const std::string& address) {
  SuppressionEvent ev;
  ev.node = "node-a";
  ev.entry.address = address;
  ev.entry.category = "unknown_user";
  ev.entry.status = "5.1.1";
  ev.entry.reply = "550 5.1.1 no such user\r\nInjected: yes";
  ev.entry.time_ms = 1'796'694'000'000;
  ev.entry.queue_id.value = 0x1A25357CC5825CBEull;
  return ev;
}

TEST(clusterSuppressionStream, RoundTrip) {
  const Argv put = encode_suppression_event(bounce("Bob@Example.ORG"));
  EXPECT_EQ(put[0], "XADD");
  EXPECT_EQ(put[1], "ferry:suppression");
  EXPECT_EQ(put[2], "MAXLEN");
  EXPECT_EQ(put[3], "~");
  auto batch = decode_suppression_events(xread({{"1-1", fields_of(put)}}));
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->events.size(), 1u);
  const auto& ev = batch->events[0];
  EXPECT_EQ(ev.node, "node-a");
  EXPECT_FALSE(ev.removed);
  EXPECT_EQ(ev.entry.address, "bob@example.org");
  EXPECT_EQ(ev.entry.category, "unknown_user");
  EXPECT_EQ(ev.entry.status, "5.1.1");
  EXPECT_EQ(ev.entry.reply, "550 5.1.1 no such user  Injected: yes");  // no line breaks survive
  EXPECT_EQ(ev.entry.time_ms, 1'796'694'000'000);
  EXPECT_EQ(ev.entry.queue_id.value, 0x1A25357CC5825CBEull);
  EXPECT_EQ(batch->last_id, "1-1");

  SuppressionEvent del;
  del.node = "cli-host";
  del.removed = true;
  del.entry.address = "bob@example.org";
  auto tomb = decode_suppression_events(xread({{"2-0", fields_of(encode_suppression_event(del))}}));
  ASSERT_TRUE(tomb);
  ASSERT_EQ(tomb->events.size(), 1u);
  EXPECT_TRUE(tomb->events[0].removed);
}

struct BadCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> fields;
};

// Each message is skipped, but its id still moves the cursor past it.
TEST(clusterSuppressionStream, HostileMessagesSkipped) {
  const BadCase cases[] = {
      {"no op", {{"node", "n"}, {"address", "a@b"}}},
      {"unknown op", {{"op", "drop"}, {"node", "n"}, {"address", "a@b"}}},
      {"no @", {{"op", "del"}, {"node", "n"}, {"address", "ab"}}},
      {"CRLF in address", {{"op", "del"}, {"node", "n"}, {"address", "a@b\r\nX"}}},
      {"address too long", {{"op", "del"}, {"node", "n"}, {"address", std::string(300, 'a') + "@b"}}},
      {"node with space", {{"op", "del"}, {"node", "n 1"}, {"address", "a@b"}}},
      {"put without category", {{"op", "put"}, {"node", "n"}, {"address", "a@b"}, {"time", "1"}}},
      {"put with bad time",
       {{"op", "put"}, {"node", "n"}, {"address", "a@b"}, {"category", "unknown_user"}, {"time", "-5"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Reply> f;
    for (const auto& [k, v] : c.fields) f.push_back(str(k)), f.push_back(str(v));
    auto batch = decode_suppression_events(xread({{"5-3", arr(std::move(f))}}));
    ASSERT_TRUE(batch);
    EXPECT_TRUE(batch->events.empty());
    EXPECT_EQ(batch->skipped, 1u);
    EXPECT_EQ(batch->last_id, "5-3");
  }
}

TEST(clusterSuppressionStream, Shapes) {
  EXPECT_TRUE(decode_suppression_events(Reply{}));  // BLOCK timed out: nil
  EXPECT_TRUE(decode_suppression_events(Reply{})->last_id.empty());
  EXPECT_FALSE(decode_suppression_events(str("x")));
  EXPECT_FALSE(decode_suppression_events(xread({{"not-an-id", arr({})}})));
  EXPECT_FALSE(decode_suppression_events(arr({arr({str(kSuppressionStream)})})));
  for (const char* ok : {"0", "1-0", "1796694000000-12"}) EXPECT_TRUE(valid_stream_id(ok)) << ok;
  for (const char* bad : {"", "-", "1-", "-1", "$", "1-2-3", "a-1", "1 -1"})
    EXPECT_FALSE(valid_stream_id(bad)) << bad;
  const Argv r = read_suppression_events("7-1", 500);
  EXPECT_EQ(r, (Argv{"XREAD", "COUNT", "100", "BLOCK", "500", "STREAMS", "ferry:suppression", "7-1"}));
}

}  // namespace
}  // namespace ferry::cluster
