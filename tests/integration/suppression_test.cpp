// Integration: the suppression list of a real `ferry serve` — a hard bounce from a fake MX puts
// the address on the list, RCPT refuses it afterwards, mail already queued to it fails at once
// with a bounce saying so, `ferry suppress remove` lets it through again, and entries expire.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;
using namespace std::chrono_literals;

class Suppression : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::open_mx_pair(mx1_, "127.0.0.2", mx2_, "127.0.0.3"));
    auto zone = test::loopback_mx_zone();
    zone.push_back("--mx-host=sender.test,mx2.failover.test,10");  // bounces go to the second fake MX
    dns_ = std::make_unique<test::DnsServer>(zone);
    // The MX says "user unknown" to gone@ once `gone_` is set; until then it defers it.
    mx1_->on_rcpt = [this](const std::string& rcpt, int) {
      if (rcpt.rfind("gone@", 0) != 0) return std::string("250 2.1.5 Ok");
      ++gone_asked_;
      return gone_.load() ? std::string("550 5.1.1 user unknown") : std::string("451 4.3.0 not now");
    };
  }

  void start(const std::string& extra = "",
             const std::string& retry = "first = \"1h\"\nmax_interval = \"1h\"\n") {
    std::string cfg = "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir_.file("q") +
                      "\"\nmax_size = \"64MiB\"\n"
                      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\nsuppression = false\n"
                      "[delivery]\nport = " +
                      std::to_string(mx1_->port()) + "\nconnect_timeout = \"2s\"\n[dns]\nservers = [\"" +
                      dns_->address() + "\"]\n[metrics]\nlisten = \"\"\n[retry]\n" + retry + extra;
    dir_.write("ferry.toml", cfg);
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log"));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    port_ = port_from_log(serve_->output(), 0);
    open_port_ = port_from_log(serve_->output(), 1);
    ASSERT_GT(port_, 0);
    ASSERT_GT(open_port_, 0);
  }

  void TearDown() override {
    if (serve_) EXPECT_EQ(serve_->stop(SIGTERM, 20000), 0) << serve_->output();
  }

  test::RunResult suppress(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "suppress", "--config", dir_.file("ferry.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }

  // The server's reply to RCPT TO:<rcpt> after a MAIL FROM, as "code text".
  std::string rcpt_reply(int port, const std::string& rcpt) {
    const std::string script = "import smtplib\ns=smtplib.SMTP('127.0.0.1'," + std::to_string(port) +
                               ",timeout=20)\ns.ehlo('client.test')\ns.mail('a@sender.test')\n"
                               "c,m=s.rcpt('" +
                               rcpt + "')\nprint(c,m.decode())\ns.quit()\n";
    auto r = test::run({"/usr/bin/env", "python3", "-c", script}, "", 30);
    return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "error: " + r.err;
  }

  // Waits (bounded) until the log has `needle`.
  bool logged(const std::string& needle, int timeout_ms = 15000) {
    return serve_->wait_for_output(needle, timeout_ms);
  }

  std::atomic<bool> gone_{true};
  std::atomic<int> gone_asked_{0};  // RCPTs for gone@ that reached the MX
  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx1_, mx2_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::Background> serve_;
  int port_ = 0, open_port_ = 0;
};

std::string today_pattern() { return "20[0-9][0-9]-[01][0-9]-[0-3][0-9]"; }

TEST_F(Suppression, HardBounceIsListedAndRefusedAtRcptUntilRemoved) {
  start("[relay]\nlocal_domains = [\"local.test\"]\n[aliases]\nfriend = \"gone@example.test\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"gone@example.test", "bob@example.test"}, "Subject: 1\n\nx\n"),
            "ok");
  ASSERT_TRUE(logged("to=<gone@example.test>, suppressed (unknown_user, dsn=5.1.1)")) << serve_->output();

  auto list = suppress({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto parsed = test::run({"/usr/bin/env", "python3", "-c",
                           "import json,sys\nl=json.load(sys.stdin)\nfor e in l:\n"
                           "  print(e['address'],e['category'],e['status'],e['source'],e['expired'],"
                           "bool(e['queue_id']),e['reply'])\n"},
                          list.out);
  EXPECT_EQ(parsed.out, "gone@example.test unknown_user 5.1.1 bounce False True 550 5.1.1 user unknown\n")
      << list.out << parsed.err;

  // A relay client gets 550 5.1.1 at RCPT, whatever the case of the address; others still pass.
  const std::regex refused("550 5\\.1\\.1 <gone@example\\.test>: suppressed after a hard bounce on " +
                           today_pattern() + " \\(unknown_user\\)");
  EXPECT_TRUE(std::regex_match(rcpt_reply(port_, "gone@example.test"), refused))
      << rcpt_reply(port_, "gone@example.test");
  EXPECT_NE(rcpt_reply(port_, "Gone@Example.TEST").find("550 5.1.1 <Gone@Example.TEST>: suppressed"),
            std::string::npos);
  EXPECT_EQ(rcpt_reply(port_, "bob@example.test"), "250 2.1.5 Ok");
  // An alias whose target is suppressed is refused under the name the client gave.
  EXPECT_EQ(
      rcpt_reply(port_, "friend@local.test").rfind("550 5.1.1 <friend@local.test>: suppressed after", 0), 0u)
      << rcpt_reply(port_, "friend@local.test");
  // A listener with suppression = false accepts it.
  EXPECT_EQ(rcpt_reply(open_port_, "gone@example.test"), "250 2.1.5 Ok");
  EXPECT_TRUE(logged("suppressed: RCPT <gone@example.test> refused (unknown_user on ")) << serve_->output();

  auto remove = suppress({"remove", "gone@example.test"});
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_EQ(rcpt_reply(port_, "gone@example.test"), "250 2.1.5 Ok");
  EXPECT_EQ(suppress({"show", "gone@example.test"}).exit_code, 1);
  EXPECT_EQ(suppress({"remove", "gone@example.test"}).exit_code, 1);
}

TEST_F(Suppression, MailQueuedBeforeTheBounceFailsAtOnceWithAReport) {
  gone_ = false;
  start();
  // The first message is deferred (451) and waits an hour for its retry.
  ASSERT_EQ(send_mail(port_, "early@sender.test", {"gone@example.test"}, "Subject: early\n\nx\n"), "ok");
  ASSERT_TRUE(logged("to=<gone@example.test>, relay=mx1.example.test")) << serve_->output();
  ASSERT_TRUE(logged("status=deferred (451 4.3.0 not now)")) << serve_->output();
  // Now the mailbox is gone: a second message bounces and suppresses the address.
  gone_ = true;
  ASSERT_EQ(send_mail(port_, "late@sender.test", {"gone@example.test"}, "Subject: late\n\nx\n"), "ok");
  ASSERT_TRUE(logged("suppressed (unknown_user, dsn=5.1.1)")) << serve_->output();
  ASSERT_TRUE(mx2_->wait_messages(1, 15s)) << serve_->output();  // the bounce to late@
  EXPECT_EQ(gone_asked_.load(), 2);                              // the deferral and the bounce

  // The early message is tried now: it fails without a connection, with a report saying why.
  auto flush = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "flush"});
  ASSERT_EQ(flush.exit_code, 0) << flush.err;
  ASSERT_TRUE(logged("relay=none, delay=")) << serve_->output();
  ASSERT_TRUE(logged("status=bounced (550 5.1.1 <gone@example.test>: suppressed after a hard bounce on "))
      << serve_->output();
  ASSERT_TRUE(mx2_->wait_messages(2, 15s)) << serve_->output();
  const auto reports = mx2_->messages();
  const auto& report = reports.at(1);
  EXPECT_EQ(report.rcpt_to, std::vector<std::string>{"early@sender.test"});
  EXPECT_NE(report.data.find("suppressed after a hard bounce on"), std::string::npos) << report.data;
  EXPECT_NE(report.data.find("Status: 5.1.1"), std::string::npos) << report.data;
  // The early message never reached the MX again: no third RCPT for gone@.
  EXPECT_EQ(gone_asked_.load(), 2);
  auto queue = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"});
  for (int i = 0; i < 100 && queue.out != "Mail queue is empty\n"; ++i) {
    usleep(50000);
    queue = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"});
  }
  EXPECT_EQ(queue.out, "Mail queue is empty\n");
}

TEST_F(Suppression, ManualEntryExpiresAfterTheTtl) {
  start("[suppression]\nttl = \"2s\"\n");
  const auto added = std::chrono::steady_clock::now();
  auto add = suppress({"add", "Manual@Example.test", "--reason", "asked by the customer"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto show = suppress({"show", "manual@example.test", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"source\":\"manual\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"reply\":\"asked by the customer\""), std::string::npos) << show.out;
  const std::string first = rcpt_reply(port_, "manual@example.test");
  // Within its 2 s the entry refuses (a loaded machine may already be past them: then it expired).
  if (std::chrono::steady_clock::now() - added < 1500ms)
    EXPECT_NE(first.find("550 5.1.1 <manual@example.test>: suppressed by the postmaster on "),
              std::string::npos)
        << first;
  // Expiry: bounded wait for the entry to stop refusing.
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  do {
    reply = rcpt_reply(port_, "manual@example.test");
    if (reply == "250 2.1.5 Ok") break;
    usleep(200000);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(reply, "250 2.1.5 Ok");
  auto list = suppress({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // Still stored until the purge, but marked expired (and refusing nothing, as seen above).
  EXPECT_NE(list.out.find("\"expired\":true"), std::string::npos) << list.out;
  // The daemon purges expired entries at start (and every 10 minutes).
  ASSERT_EQ(serve_->stop(SIGTERM, 20000), 0) << serve_->output();
  serve_.reset();
  start("[suppression]\nttl = \"2s\"\n");
  ASSERT_TRUE(logged("suppression: 1 expired entries purged")) << serve_->output();
  EXPECT_EQ(suppress({"list", "--json"}).out, "[]\n");
}

TEST_F(Suppression, CliRefusesWhatIsNotAnAddress) {
  start();
  EXPECT_EQ(suppress({"add", "no-at-sign"}).exit_code, 64);
  EXPECT_EQ(suppress({"add", "a@b\nc"}).exit_code, 64);
  EXPECT_EQ(suppress({"frobnicate"}).exit_code, 64);
  auto list = suppress({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, "suppression list is empty\n");
}

}  // namespace
}  // namespace ferry
