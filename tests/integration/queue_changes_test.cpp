// Integration: a running `ferry serve` follows changes other processes make to its queue without
// re-reading the whole due index: messages enqueued by another process and made due by
// `ferry queue flush`, a hold and a release, a delete, each reach the scheduler through the
// daemon's wake-up signal and a bounded re-read of the soonest-due window.
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "mta/ops/SystemClock.hpp"
#include "queue/QueueStore.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

class QueueChanges : public ::testing::Test {
 protected:
  void SetUp() override {
    mx_ = std::make_unique<test::FakeMx>("127.0.0.2");
    dns_ = std::make_unique<test::DnsServer>(test::loopback_mx_zone());
    dir_.write("ferry.toml", "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                                 dir_.file("q") +
                                 "\"\nmax_size = \"64MiB\"\n"
                                 "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                                 "[dns]\nservers = [\"" +
                                 dns_->address() + "\"]\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.2]:" +
                                 std::to_string(mx_->port()) + "\"\n");
  }
  void TearDown() override {
    if (serve_) EXPECT_EQ(serve_->stop(SIGTERM, 20000), 0) << serve_->output();
  }

  // Enqueues a message due in an hour straight into the queue, as another process would.
  QueueId enqueue_elsewhere(const std::string& rcpt) {
    queue::QueueOptions o;
    o.path = dir_.file("q");
    o.map_size = 64ull << 20;
    auto store = queue::QueueStore::open(o);
    EXPECT_TRUE(store.ok());
    queue::NewMessage m;
    m.id = (*store)->allocate_id();
    m.envelope.reverse_path = "a@sender.test";
    m.envelope.recipients.push_back({rcpt, "", kNotifyNever});
    m.envelope.arrival_ms = now_ms();
    m.body = "Subject: " + rcpt + "\r\n\r\nbody\r\n";
    m.envelope.size = m.body.size();
    m.first_due_ms = now_ms() + 3600 * 1000;
    EXPECT_TRUE((*store)->enqueue(m).ok());
    return m.id;
  }

  void start() {
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log"));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
  }

  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }

  std::vector<std::string> delivered_to() {
    std::vector<std::string> out;
    for (const auto& m : mx_->messages()) out.insert(out.end(), m.rcpt_to.begin(), m.rcpt_to.end());
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::Background> serve_;
};

TEST_F(QueueChanges, HoldDeleteFlushAndReleaseReachTheScheduler) {
  const QueueId a = enqueue_elsewhere("a@remote.test");
  const QueueId b = enqueue_elsewhere("b@remote.test");
  const QueueId c = enqueue_elsewhere("c@remote.test");
  start();
  ASSERT_TRUE(serve_->wait_for_output("delivery: 3 recipients scheduled")) << serve_->output();
  ASSERT_EQ(queue({"hold", b.str()}).exit_code, 0);
  ASSERT_EQ(queue({"delete", c.str()}).exit_code, 0);
  ASSERT_EQ(queue({"flush"}).exit_code, 0);  // a is due now; b is held, c is gone
  ASSERT_TRUE(mx_->wait_messages(1, 20s)) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("to=<a@remote.test>")) << serve_->output();
  EXPECT_EQ(delivered_to(), std::vector<std::string>{"a@remote.test"});
  ASSERT_EQ(queue({"release", b.str()}).exit_code, 0);  // due now
  ASSERT_TRUE(mx_->wait_messages(2, 20s)) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("to=<b@remote.test>")) << serve_->output();
  EXPECT_EQ(delivered_to(), (std::vector<std::string>{"a@remote.test", "b@remote.test"}));
  EXPECT_EQ(serve_->output().find("c@remote.test"), std::string::npos) << serve_->output();
  EXPECT_EQ(queue({"list"}).out, "Mail queue is empty\n");
  (void)a;
}

TEST_F(QueueChanges, AMessageFlushedByIdIsDeliveredAtOnce) {
  start();
  const QueueId id = enqueue_elsewhere("late@remote.test");  // the daemon was not told
  ASSERT_EQ(queue({"flush", id.str()}).exit_code, 0);        // the flush wakes it
  ASSERT_TRUE(mx_->wait_messages(1, 20s)) << serve_->output();
  EXPECT_EQ(delivered_to(), std::vector<std::string>{"late@remote.test"});
}

}  // namespace
}  // namespace ferry
