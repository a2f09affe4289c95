// Integration: `ferry queue ...` against a real queue directory, with and without a running
// `ferry serve` on the same queue (LMDB is multi-process).
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/support/Subprocess.hpp"
#include "mta/ops/SystemClock.hpp"
#include "queue/QueueStore.hpp"

namespace ferry {
namespace {

using test::run;
using test::TempDir;

class QueueCli : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.file("ferry.toml");
    dir_.write("ferry.toml",
               "user = \"root\"\n[queue]\npath = \"" + dir_.file("queue") + "\"\nmax_size = \"64MiB\"\n");
  }

  // Enqueues one message straight through QueueStore, as the SMTP server would.
  QueueId enqueue(const std::string& sender, std::vector<std::string> rcpts, const std::string& body) {
    queue::QueueOptions o;
    o.path = dir_.file("queue");
    o.map_size = 64ull << 20;
    auto store = queue::QueueStore::open(o);
    EXPECT_TRUE(store.ok());
    queue::NewMessage m;
    m.id = (*store)->allocate_id();
    m.envelope.reverse_path = sender;
    for (auto& r : rcpts) m.envelope.recipients.push_back({r, "", kNotifyUnspecified});
    m.envelope.arrival_ms = now_ms();
    m.envelope.size = body.size();
    m.envelope.client = {"127.0.0.1", "client.test", "", "ESMTP"};
    m.body = body;
    m.first_due_ms = now_ms() + 3600 * 1000;
    auto r = (*store)->enqueue(m);
    EXPECT_TRUE(r.ok());
    return m.id;
  }

  test::RunResult ferry(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  TempDir dir_;
  std::string config_;
};

TEST_F(QueueCli, ListShowsMessagesAndRecipients) {
  EXPECT_EQ(ferry({"list"}).out, "Mail queue is empty\n");
  auto id =
      enqueue("alice@example.com", {"bob@example.org", "carol@example.net"}, "Subject: one\r\n\r\nbody\r\n");
  auto r = ferry({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(id.str()), std::string::npos);
  EXPECT_NE(r.out.find("<alice@example.com>"), std::string::npos);
  EXPECT_NE(r.out.find("bob@example.org  pending  attempts=0"), std::string::npos);
  EXPECT_NE(r.out.find("carol@example.net  pending"), std::string::npos);
  auto j = ferry({"list", "--json"});
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_NE(j.out.find("\"id\":\"" + id.str() + "\""), std::string::npos);
  EXPECT_NE(j.out.find("\"address\":\"carol@example.net\""), std::string::npos);
}

TEST_F(QueueCli, ShowPrintsEnvelopeAndHeaders) {
  auto id = enqueue("alice@example.com", {"bob@example.org"},
                    "Subject: hello there\r\nX-A: 1\r\n\r\nnot shown\r\n");
  auto r = ferry({"show", id.str()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Sender:      <alice@example.com>"), std::string::npos);
  EXPECT_NE(r.out.find("Subject: hello there"), std::string::npos);
  EXPECT_EQ(r.out.find("not shown"), std::string::npos);
  auto j = ferry({"show", id.str(), "--json"});
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_NE(j.out.find("\"headers\":\"Subject: hello there\\r\\nX-A: 1\\r\\n\""), std::string::npos);
}

TEST_F(QueueCli, HoldReleaseFlushDelete) {
  auto id = enqueue("a@example.com", {"b@example.org"}, "Subject: x\r\n\r\ny\r\n");
  EXPECT_EQ(ferry({"hold", id.str()}).exit_code, 0);
  EXPECT_NE(ferry({"list"}).out.find("b@example.org  held"), std::string::npos);
  EXPECT_EQ(ferry({"release", id.str()}).exit_code, 0);
  EXPECT_NE(ferry({"list"}).out.find("b@example.org  pending"), std::string::npos);
  EXPECT_EQ(ferry({"flush", id.str()}).exit_code, 0);
  EXPECT_EQ(ferry({"flush"}).exit_code, 0);
  auto del = ferry({"delete", id.str()});
  EXPECT_EQ(del.exit_code, 0);
  EXPECT_EQ(ferry({"list"}).out, "Mail queue is empty\n");
}

// Each change confirms itself on stdout in one line: the id (or "queue" for a whole flush) and
// what was done.
TEST_F(QueueCli, ChangesConfirmWhatWasDone) {
  auto id = enqueue("a@example.com", {"b@example.org"}, "Subject: x\r\n\r\ny\r\n");
  EXPECT_EQ(ferry({"hold", id.str()}).out, id.str() + ": held\n");
  EXPECT_EQ(ferry({"release", id.str()}).out, id.str() + ": released\n");
  EXPECT_EQ(ferry({"flush", id.str()}).out, id.str() + ": flushed\n");
  EXPECT_EQ(ferry({"flush"}).out, "queue: flushed\n");
  EXPECT_EQ(ferry({"delete", id.str()}).out, id.str() + ": deleted\n");
  auto help = ferry({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: ferry queue"), std::string::npos) << help.out;
  EXPECT_EQ(ferry({"list", "--bogus"}).err.substr(0, 39), "ferry: queue: unknown option '--bogus'\n");
  EXPECT_EQ(ferry({"frobnicate"}).err.substr(0, 43), "ferry: queue: unknown command 'frobnicate'\n");
  EXPECT_EQ(ferry({"flush", "--json"}).err, "ferry: queue: --json applies to list and show only\n");
  EXPECT_EQ(ferry({"list", "x"}).exit_code, 64);
  EXPECT_EQ(ferry({"flush", "1", "2"}).exit_code, 64);
}

TEST_F(QueueCli, UnknownIdIsAClearErrorWithExitOne) {
  for (std::string cmd : {"show", "hold", "release", "delete", "flush"}) {
    auto r = ferry({cmd, "00000000DEADBEEF"});
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_NE(r.err.find("no message with id 00000000DEADBEEF"), std::string::npos) << cmd << ": " << r.err;
  }
  auto bad = ferry({"show", "not-an-id"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is not a queue id"), std::string::npos);
}

TEST_F(QueueCli, UsageErrorsExit64) {
  EXPECT_EQ(ferry({}).exit_code, 64);
  EXPECT_EQ(ferry({"frobnicate"}).exit_code, 64);
  EXPECT_EQ(ferry({"show"}).exit_code, 64);
  EXPECT_EQ(ferry({"hold", "--json", "1"}).exit_code, 64);
}

TEST_F(QueueCli, WorksWhileTheDaemonRuns) {
  auto id = enqueue("a@example.com", {"b@example.org"}, "Subject: x\r\n\r\ny\r\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", config_}, dir_.file("serve.log"));
  ASSERT_TRUE(serve.wait_for_output("ready: ")) << serve.output();
  EXPECT_NE(serve.output().find("1 messages"), std::string::npos) << serve.output();
  auto r = ferry({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(id.str()), std::string::npos);
  EXPECT_EQ(ferry({"hold", id.str()}).exit_code, 0);
  EXPECT_NE(ferry({"list"}).out.find("held"), std::string::npos);
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.output();
}

}  // namespace
}  // namespace ferry
