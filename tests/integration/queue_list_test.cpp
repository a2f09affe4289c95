// Integration: `ferry queue list` filters and --limit against a real queue directory, and a queue
// of 10,000 messages listed a few at a time without reading it all.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "integration/support/Subprocess.hpp"
#include "mta/ops/SystemClock.hpp"
#include "queue/QueueStore.hpp"

namespace ferry {
namespace {

using test::run;
using test::TempDir;

class QueueList : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.file("ferry.toml");
    dir_.write("ferry.toml",
               "user = \"root\"\n[queue]\npath = \"" + dir_.file("queue") + "\"\nmax_size = \"256MiB\"\n");
    queue::QueueOptions o;
    o.path = dir_.file("queue");
    o.map_size = 256ull << 20;
    auto store = queue::QueueStore::open(o);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }

  queue::NewMessage message(const std::string& sender, const std::vector<std::string>& rcpts) {
    queue::NewMessage m;
    m.id = store_->allocate_id();
    m.envelope.reverse_path = sender;
    for (auto& r : rcpts) m.envelope.recipients.push_back({r, "", kNotifyUnspecified});
    m.envelope.arrival_ms = now_ms();
    m.body = "Subject: x\r\n\r\ny\r\n";
    m.envelope.size = m.body.size();
    m.first_due_ms = now_ms() + 3600 * 1000;
    return m;
  }
  QueueId enqueue(const std::string& sender, const std::vector<std::string>& rcpts) {
    auto m = message(sender, rcpts);
    EXPECT_TRUE(store_->enqueue(m).ok());
    return m.id;
  }

  test::RunResult list(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config_, "list"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  // The queue ids a text listing shows, in order.
  static std::vector<std::string> ids(const std::string& out) {
    std::vector<std::string> found;
    static const std::regex re("^([0-9A-F]{16}) ", std::regex::multiline);
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
      found.push_back((*it)[1]);
    return found;
  }

  TempDir dir_;
  std::string config_;
  std::unique_ptr<queue::QueueStore> store_;
};

TEST_F(QueueList, FiltersByDomainSenderAndState) {
  const auto a = enqueue("alice@example.com", {"bob@example.org"});
  const auto b = enqueue("", {"carol@Dead.Example", "dan@example.org"});  // a bounce
  const auto c = enqueue("eve@other.example", {"frank@dead.example"});
  ASSERT_TRUE(store_->hold(c).ok());
  ASSERT_TRUE(store_->lease({{a, 0, 0}}, now_ms(), now_ms() + 60'000).ok());  // an attempt in flight

  using V = std::vector<std::string>;
  EXPECT_EQ(ids(list({}).out), (V{a.str(), b.str(), c.str()}));
  EXPECT_EQ(ids(list({"--domain", "dead.example"}).out), (V{b.str(), c.str()}));
  EXPECT_EQ(ids(list({"--domain", "EXAMPLE.ORG"}).out), (V{a.str(), b.str()}));
  EXPECT_EQ(ids(list({"--sender", "Alice@example.com"}).out), (V{a.str()}));
  EXPECT_EQ(ids(list({"--sender", "<>"}).out), (V{b.str()}));
  EXPECT_EQ(ids(list({"--sender", "@other.example"}).out), (V{c.str()}));
  EXPECT_EQ(ids(list({"--state", "held"}).out), (V{c.str()}));
  EXPECT_EQ(ids(list({"--state", "active"}).out), (V{a.str()}));
  EXPECT_EQ(ids(list({"--state", "pending"}).out), (V{b.str()}));
  EXPECT_EQ(ids(list({"--domain", "dead.example", "--state", "pending"}).out), (V{b.str()}));
  auto none = list({"--domain", "nowhere.example"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "No queued message matches\n");
  auto json = list({"--json", "--sender", "<>"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(json.out.rfind("[{\"id\":\"" + b.str() + "\"", 0), 0u) << json.out;
  EXPECT_EQ(json.out.find(a.str()), std::string::npos);
  EXPECT_EQ(json.out.substr(json.out.size() - 3), "}]\n");
}

TEST_F(QueueList, LimitStopsEarlyAndTheFooterCountsWhatWasShown) {
  // 10,000 messages in one transaction, as a queue of a stalled destination would hold.
  std::vector<QueueId> all;
  auto w = store_->write([&](queue::WriteTxn& t) -> Result<void> {
    for (int i = 0; i < 10'000; ++i) {
      auto m = message("s@example.com", {"r" + std::to_string(i) + "@dead.example"});
      all.push_back(m.id);
      if (auto r = t.enqueue(m); !r) return r;
    }
    return {};
  });
  ASSERT_TRUE(w.ok()) << w.error().message;
  auto r = list({"--limit", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids(r.out), (std::vector<std::string>{all[0].str(), all[1].str(), all[2].str()}));
  EXPECT_NE(r.out.find(" Kbytes in 3 Requests.\n"), std::string::npos) << r.out;
  EXPECT_EQ(ids(list({"--limit", "1", "--domain", "dead.example"}).out),
            (std::vector<std::string>{all[0].str()}));
  auto whole = list({});
  EXPECT_EQ(ids(whole.out).size(), 10'000u);
  EXPECT_NE(whole.out.find(" in 10000 Requests.\n"), std::string::npos);
}

TEST_F(QueueList, BadOptionsAreUsageErrors) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--limit"},
                                               {"--limit", "0"},
                                               {"--limit", "-3"},
                                               {"--limit", "12abc"},
                                               {"--limit", "99999999999"},
                                               {"--state", "queued"},
                                               {"--domain"}}) {
    auto r = list(args);
    EXPECT_EQ(r.exit_code, 64) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  auto other = run({FERRY_BINARY, "queue", "--config", config_, "flush", "--domain", "x.example"});
  EXPECT_EQ(other.exit_code, 64);
  EXPECT_NE(other.err.find("apply to list only"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace ferry
