// Integration: the delivery agent of a real `ferry serve`, with a real DNS server (dnsmasq)
// serving MX/A records on loopback and scripted fake MX servers on 127.0.0.x.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
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

class Delivery : public ::testing::Test {
 protected:
  // Fake MX servers on 127.0.0.2 and 127.0.0.3, same port (MX delivery uses one port).
  void SetUp() override {
    ASSERT_TRUE(test::open_mx_pair(mx1_, "127.0.0.2", mx2_, "127.0.0.3"));
    auto zone = test::loopback_mx_zone();
    zone.push_back("--mx-host=sender.test,mx2.failover.test,10");  // where bounces go (the second fake MX)
    dns_ = std::make_unique<test::DnsServer>(zone);
  }

  void start(const std::string& extra = "",
             const std::string& retry = "first = \"1s\"\nmax_interval = \"1s\"\nafter_greylist = \"1s\"\n",
             const std::string& delivery = "") {
    std::string cfg =
        "hostname = \"ferry.test\"\nuser = \"root\"\n"
        "[queue]\npath = \"" +
        dir_.file("q") +
        "\"\nmax_size = \"64MiB\"\n"
        "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
        "[delivery]\nport = " +
        std::to_string(mx1_->port()) + "\nconnect_timeout = \"2s\"\n" + delivery + "[dns]\nservers = [\"" +
        dns_->address() +
        "\"]\n"
        "[retry]\n" +
        retry + extra;
    dir_.write("ferry.toml", cfg);
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log"));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    port_ = port_from_log(serve_->output());
    ASSERT_GT(port_, 0);
  }

  std::string queue_list() {
    return test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"}).out;
  }

  void TearDown() override {
    if (serve_) serve_->stop(SIGTERM);
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx1_, mx2_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::Background> serve_;
  int port_ = 0;
};

TEST_F(Delivery, DeliversToTheMxFromDns) {
  start();
  ASSERT_EQ(send_mail(port_, "alice@sender.test", {"bob@example.test", "carol@example.test"},
                      "Subject: hello\n\n.leading dot\nbody\n"),
            "ok");
  ASSERT_TRUE(mx1_->wait_messages(1)) << serve_->output();
  auto m = mx1_->messages().at(0);
  EXPECT_EQ(m.mail_from, "alice@sender.test");
  EXPECT_EQ(m.rcpt_to,
            (std::vector<std::string>{"bob@example.test", "carol@example.test"}));  // one transaction
  EXPECT_NE(m.data.find("Subject: hello\r\n\r\n.leading dot\r\nbody\r\n"), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("Received: from "), std::string::npos);
  ASSERT_TRUE(serve_->wait_for_output("to=<carol@example.test>, relay=mx1.example.test[127.0.0.2]"));
  EXPECT_NE(serve_->output().find("status=sent (250 2.0.0 Ok: queued)"), std::string::npos);
  ASSERT_TRUE(serve_->wait_for_output("status=sent"));
  for (int i = 0; i < 100 && queue_list() != "Mail queue is empty\n"; ++i) usleep(20000);
  EXPECT_EQ(queue_list(), "Mail queue is empty\n");
}

TEST_F(Delivery, ImplicitMxUsesTheDomainsAddress) {
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@implicit.test"}, "Subject: i\n\nx\n"), "ok");
  ASSERT_TRUE(mx1_->wait_messages(1)) << serve_->output();
  EXPECT_EQ(mx1_->messages()[0].rcpt_to[0], "x@implicit.test");
}

TEST_F(Delivery, FailsOverToTheNextMx) {
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@failover.test"}, "Subject: f\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  EXPECT_EQ(mx1_->messages().size(), 0u);
  EXPECT_TRUE(serve_->wait_for_output("relay=mx2.failover.test[127.0.0.3]")) << serve_->output();
}

TEST_F(Delivery, TransientThenSuccessOnRetry) {
  mx1_->on_rcpt = [](const std::string&, int attempt) {
    return attempt == 1 ? std::string("451 4.7.1 Greylisted, try again") : std::string("250 2.1.5 Ok");
  };
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"grey@example.test"}, "Subject: g\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=deferred (451 4.7.1 Greylisted")) << serve_->output();
  EXPECT_NE(serve_->output().find("category=greylisted"), std::string::npos) << serve_->output();
  ASSERT_TRUE(mx1_->wait_messages(1, 10s)) << serve_->output();
  EXPECT_TRUE(serve_->wait_for_output("to=<grey@example.test>, relay=mx1.example.test[127.0.0.2]"))
      << serve_->output();
}

// "Why is this stuck?": `ferry queue show` lists the attempt with its MX host, IP, TLS
// result, the full reply, its category and advice, and the next retry.
TEST_F(Delivery, QueueShowExplainsADeferral) {
  mx1_->on_rcpt = [](const std::string&, int) {
    return std::string(
        "451-4.7.1 Greylisted, please try again later\r\n451 4.7.1 see https://grey.example/why");
  };
  start("", "first = \"1h\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"stuck@example.test"}, "Subject: s\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=deferred")) << serve_->output();
  const std::string log = serve_->output();
  const auto at = log.find(": to=<stuck@example.test>");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string id = log.substr(log.rfind(' ', at) + 1, at - log.rfind(' ', at) - 1);
  auto show = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("deferred mx1.example.test[127.0.0.2]:" + std::to_string(mx1_->port()) + " tls="),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("451 4.7.1 Greylisted, please try again later"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("see https://grey.example/why"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("category: greylisted: "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("    next retry: 20"), std::string::npos) << show.out;
  auto json = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "show", id, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = test::run({"/usr/bin/env", "python3", "-c",
                           "import json,sys\n"
                           "m=json.load(sys.stdin)\n"
                           "a=m['recipients'][0]['history'][0]\n"
                           "print(a['host'],a['ip'],a['tls'] is not None,a['category'])\n"},
                          json.out);
  EXPECT_EQ(parsed.out, "mx1.example.test 127.0.0.2 True greylisted\n") << json.out << parsed.err;
}

TEST_F(Delivery, PermanentFailureForOneRecipientOtherDelivered) {
  mx1_->on_rcpt = [](const std::string& rcpt, int) {
    return rcpt.rfind("nobody", 0) == 0 ? std::string("550 5.1.1 No such user") : std::string("250 2.1.5 Ok");
  };
  start();
  ASSERT_EQ(
      send_mail(port_, "a@sender.test", {"nobody@example.test", "bob@example.test"}, "Subject: p\n\nx\n"),
      "ok");
  ASSERT_TRUE(mx1_->wait_messages(1)) << serve_->output();
  EXPECT_EQ(mx1_->messages()[0].rcpt_to, std::vector<std::string>{"bob@example.test"});
  ASSERT_TRUE(serve_->wait_for_output("to=<nobody@example.test>")) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=5.1.1, status=bounced (550 5.1.1 No such user)"), std::string::npos)
      << serve_->output();
  EXPECT_NE(serve_->output().find("category=unknown_user, dsn=5.1.1"), std::string::npos) << serve_->output();
}

TEST_F(Delivery, DnsFailuresAreClassified) {
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@nowhere.test", "y@nullmx.test"}, "Subject: d\n\nx\n"),
            "ok");
  ASSERT_TRUE(serve_->wait_for_output("to=<x@nowhere.test>")) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("to=<y@nullmx.test>")) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=5.1.2, status=bounced"), std::string::npos) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=5.1.10, status=bounced"), std::string::npos) << serve_->output();
}

TEST_F(Delivery, DnsServerDownIsTransient) {
  dns_.reset();  // nobody answers on that port any more
  dns_ = std::make_unique<test::DnsServer>(std::vector<std::string>{"--server=/example.test/127.0.0.1#9"});
  start();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"x@example.test"}, "Subject: d\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("to=<x@example.test>")) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=4.4.3, status=deferred"), std::string::npos) << serve_->output();
}

TEST_F(Delivery, FlushMakesDeliveryStartWithinASecond) {
  bool accept = false;
  mx1_->on_rcpt = [&accept](const std::string&, int) {
    return accept ? std::string("250 2.1.5 Ok") : std::string("451 4.3.0 Not now");
  };
  start("", "first = \"1h\"\nmax_interval = \"1h\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"f@example.test"}, "Subject: f\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=deferred")) << serve_->output();
  accept = true;
  auto flush = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "flush"});
  ASSERT_EQ(flush.exit_code, 0) << flush.err;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(mx1_->wait_messages(1, 5s)) << serve_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms) << "flush starts deliveries within one second";
}

TEST_F(Delivery, ExpiresAtMaxAgeWith447) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("451 4.7.1 Still greylisted"); };
  start("", "first = \"1s\"\nmax_interval = \"1s\"\nmax_age = \"3s\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"late@example.test"}, "Subject: e\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=expired", 15000)) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=4.4.7"), std::string::npos) << serve_->output();
  EXPECT_NE(serve_->output().find("Still greylisted"), std::string::npos);
  for (int i = 0; i < 100 && queue_list() != "Mail queue is empty\n"; ++i) usleep(20000);
  EXPECT_EQ(queue_list(), "Mail queue is empty\n");
}

TEST_F(Delivery, WedgedDestinationStillExpires) {
  // The only MX accepts TCP but never says anything: attempts hang until the greeting timeout;
  // the expiry sweep must still fail the recipient on time.
  test::FakeMx silent("127.0.0.4");
  silent.greeting = "";
  start("[[route]]\ndomain = \"wedged.test\"\nhost = \"[127.0.0.4]:" + std::to_string(silent.port()) + "\"\n",
        "first = \"1s\"\nmax_interval = \"1s\"\nmax_age = \"4s\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"w@wedged.test"}, "Subject: w\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=expired", 20000)) << serve_->output();
}

TEST_F(Delivery, RetryHappensAfterARestart) {
  int calls = 0;
  mx1_->on_rcpt = [&calls](const std::string&, int) {
    return ++calls == 1 ? std::string("451 4.7.1 later") : std::string("250 2.1.5 Ok");
  };
  start("", "first = \"2s\"\nmax_interval = \"2s\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"r@example.test"}, "Subject: r\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("status=deferred")) << serve_->output();
  EXPECT_EQ(serve_->stop(SIGKILL), 128 + SIGKILL);
  serve_ = std::make_unique<test::Background>(
      std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
      dir_.file("log2"));
  ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
  EXPECT_NE(serve_->output().find("1 pending recipients"), std::string::npos) << serve_->output();
  ASSERT_TRUE(mx1_->wait_messages(1, 10s)) << serve_->output();
}

TEST_F(Delivery, RoutesToALiteralHostAndReusesTheConnection) {
  start("[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.3]:" + std::to_string(mx2_->port()) + "\"\n");
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(
        send_mail(port_, "a@sender.test", {"z" + std::to_string(i) + "@anything.test"}, "Subject: r\n\nx\n"),
        "ok");
  ASSERT_TRUE(mx2_->wait_messages(3)) << serve_->output();
  EXPECT_EQ(mx1_->messages().size(), 0u);
}

// The destination's only slot is held by a connection waiting idle for more mail: a new message
// goes on it at once, not after it has timed out idle (60 s here) and given its slot back.
TEST_F(Delivery, AnIdleConnectionHoldingTheLastSlotTakesNewMail) {
  start("[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.3]:" + std::to_string(mx2_->port()) + "\"\n",
        "first = \"1s\"\n", "max_per_destination = 1\ninitial_per_destination = 1\nidle_timeout = \"60s\"\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"one@anything.test"}, "Subject: 1\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("status=sent")) << serve_->output();
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"two@anything.test"}, "Subject: 2\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(2, 20s)) << serve_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 20s);
  EXPECT_EQ(mx2_->connections(), 1);
  ASSERT_EQ(mx2_->messages().size(), 2u);
  EXPECT_EQ(mx2_->messages()[1].rcpt_to, std::vector<std::string>{"two@anything.test"});
}

// The next message of a connection is leased while the data of the current one is answered; when
// that answer ends the session (421), the leased message goes on a connection of its own at once
// instead of waiting in flight until a restart, and the refused one is retried.
TEST_F(Delivery, AMessageLeasedForAConnectionThatFailsGoesOnAnother) {
  std::mutex m;
  std::condition_variable cv;
  bool second_queued = false;
  // RCPT of the first message waits until the second is queued: it is due when the data goes out.
  mx2_->on_rcpt = [&](const std::string& rcpt, int) {
    std::unique_lock lock(m);
    if (rcpt == "one@anything.test") cv.wait_for(lock, 10s, [&] { return second_queued; });
    return std::string("250 2.1.5 Ok");
  };
  std::atomic<int> first_data{0};
  mx2_->on_data = [&](const test::ReceivedMessage& msg) {
    if (msg.rcpt_to == std::vector<std::string>{"one@anything.test"} && first_data++ == 0)
      return std::string("421 4.3.0 closing");
    return std::string("250 2.0.0 Ok: queued");
  };
  start("[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.3]:" + std::to_string(mx2_->port()) + "\"\n",
        "first = \"1s\"\n", "max_per_destination = 1\ninitial_per_destination = 1\n");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"one@anything.test"}, "Subject: 1\n\nx\n"), "ok");
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"two@anything.test"}, "Subject: 2\n\nx\n"), "ok");
  {
    std::lock_guard lock(m);
    second_queued = true;
  }
  cv.notify_all();
  ASSERT_TRUE(mx2_->wait_messages(2, 20s)) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("to=<one@anything.test>", 10000)) << serve_->output();
  EXPECT_NE(serve_->output().find("status=deferred (421 4.3.0 closing)"), std::string::npos)
      << serve_->output();
  std::map<std::string, int> got;
  for (const auto& msg : mx2_->messages()) ++got[msg.rcpt_to.at(0)];
  EXPECT_EQ(got, (std::map<std::string, int>{{"one@anything.test", 1}, {"two@anything.test", 1}}));
  EXPECT_GE(mx2_->connections(), 2);
}

TEST_F(Delivery, RefusesToDeliverToItself) {
  // A route pointing at Ferry's own listener is a mail loop (5.4.6), not an endless relay.
  start();
  serve_->stop(SIGTERM);
  std::string cfg = "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir_.file("q") +
                    "\"\n"
                    "[[listen]]\naddress = \"127.0.0.1\"\nport = " +
                    std::to_string(port_) +
                    "\nmode = \"relay\"\n"
                    "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
                    std::to_string(port_) + "\"\n";
  dir_.write("ferry.toml", cfg);
  serve_ = std::make_unique<test::Background>(
      std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
      dir_.file("log3"));
  ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
  ASSERT_EQ(send_mail(port_, "a@sender.test", {"loop@example.test"}, "Subject: l\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("to=<loop@example.test>")) << serve_->output();
  EXPECT_NE(serve_->output().find("dsn=5.4.6"), std::string::npos) << serve_->output();
}

// Sends raw SMTP (for DSN parameters smtplib would not pass through).
std::string send_raw(int port, const std::string& commands) {
  std::string script =
      "import socket,sys,time\n"
      "s=socket.create_connection(('127.0.0.1'," +
      std::to_string(port) +
      "),timeout=20)\n"
      "f=s.makefile('rb')\n"
      "def reply():\n"
      "  out=b''\n"
      "  while True:\n"
      "    l=f.readline(); out+=l\n"
      "    if len(l)<4 or l[3:4]==b' ': return out\n"
      "reply()\n"
      "for line in sys.stdin.read().split('\\n'):\n"
      "  if not line: continue\n"
      "  s.sendall(line.encode()+b'\\r\\n')\n"
      "  if line in ('.',) or not line.startswith(('Subject','X-','hello')): "
      "print(reply().decode().strip())\n";
  return test::run({"/usr/bin/env", "python3", "-c", script}, commands, 30).out;
}

TEST_F(Delivery, PermanentFailureBouncesToTheSendersMxOnce) {
  mx1_->on_rcpt = [](const std::string& rcpt, int) {
    return rcpt.rfind("nobody", 0) == 0 ? std::string("550 5.1.1 <nobody@example.test>: User unknown")
                                        : std::string("250 2.1.5 Ok");
  };
  start();
  ASSERT_EQ(send_mail(port_, "alice@sender.test", {"nobody@example.test", "bob@example.test"},
                      "Subject: will bounce\nMessage-ID: <orig-1@sender.test>\n\nx\n"),
            "ok");
  ASSERT_TRUE(mx1_->wait_messages(1)) << serve_->output();
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  auto bounce = mx2_->messages().at(0);
  EXPECT_EQ(bounce.mail_from, "");
  EXPECT_EQ(bounce.rcpt_to, std::vector<std::string>{"alice@sender.test"});
  EXPECT_NE(bounce.data.find("multipart/report"), std::string::npos) << bounce.data;
  EXPECT_NE(bounce.data.find("Final-Recipient: rfc822; nobody@example.test"), std::string::npos)
      << bounce.data;
  EXPECT_NE(bounce.data.find("Diagnostic-Code: smtp; 550 5.1.1"), std::string::npos) << bounce.data;
  EXPECT_EQ(bounce.data.find("Final-Recipient: rfc822; bob@example.test"), std::string::npos);
  EXPECT_NE(bounce.data.find("In-Reply-To: <orig-1@sender.test>"), std::string::npos);
  // The reply's classification, as in the log line, in both parts of the report.
  EXPECT_NE(bounce.data.find("Category:      unknown_user\r\n"), std::string::npos) << bounce.data;
  EXPECT_NE(bounce.data.find("X-Ferry-Category: unknown_user\r\n"), std::string::npos) << bounce.data;
  EXPECT_NE(serve_->output().find("category=unknown_user"), std::string::npos) << serve_->output();
  usleep(500000);
  EXPECT_EQ(mx2_->messages().size(), 1u) << "exactly one bounce";
  // A real MIME parser (Python's email package) sees an RFC 6522 report with three parts.
  std::string script =
      "import sys,email,email.policy\n"
      "m=email.message_from_bytes(sys.stdin.buffer.read(),policy=email.policy.default)\n"
      "print(m.get_content_type(),m.get_param('report-type'))\n"
      "for p in m.iter_parts(): print(p.get_content_type())\n"
      "ds=[p for p in m.iter_parts() if p.get_content_type()=='message/delivery-status'][0]\n"
      "blocks=ds.get_payload()\n"
      "print(blocks[0]['Reporting-MTA'])\n"
      "print(blocks[1]['Action'],blocks[1]['Status'],blocks[1]['Final-Recipient'])\n";
  auto parsed = test::run({"/usr/bin/env", "python3", "-c", script}, bounce.data);
  EXPECT_EQ(parsed.out,
            "multipart/report delivery-status\ntext/plain\nmessage/delivery-status\ntext/rfc822-headers\n"
            "dns; ferry.test\nfailed 5.1.1 rfc822; nobody@example.test\n")
      << parsed.err;
}

TEST_F(Delivery, LocalAliasThatFailsBouncesLikeAnyOther) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("550 5.1.1 User unknown"); };
  start("[aliases]\nroot = \"gone@example.test\"\n");
  ASSERT_EQ(send_mail(port_, "alice@sender.test", {"root@ferry.test"}, "Subject: alias\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  EXPECT_NE(mx2_->messages()[0].data.find("gone@example.test"), std::string::npos)
      << mx2_->messages()[0].data;
}

TEST_F(Delivery, FailedBounceGoesToPostmasterWhenConfigured) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("550 5.1.1 User unknown"); };
  start("[bounce]\npostmaster = \"pm@sender.test\"\n");
  std::string out = send_raw(port_,
                             "EHLO c.test\nMAIL FROM:<>\nRCPT TO:<x@example.test>\n"
                             "DATA\nSubject: a bounce that fails\n\nhello\n.\nQUIT\n");
  ASSERT_NE(out.find("queued as"), std::string::npos) << out;
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  EXPECT_EQ(mx2_->messages()[0].rcpt_to, std::vector<std::string>{"pm@sender.test"});
  EXPECT_EQ(mx2_->messages()[0].mail_from, "");
}

TEST_F(Delivery, DelayWarningThenExpiryBounce) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("451 4.7.1 Greylisted"); };
  start("[bounce]\ndelay_warning = \"1s\"\n",
        "first = \"1s\"\nmax_interval = \"1s\"\nafter_greylist = \"1s\"\nmax_age = \"4s\"\n");
  ASSERT_EQ(send_mail(port_, "alice@sender.test", {"slow@example.test"}, "Subject: slow\n\nx\n"), "ok");
  ASSERT_TRUE(mx2_->wait_messages(2, 20s)) << serve_->output();
  auto msgs = mx2_->messages();
  EXPECT_NE(msgs[0].data.find("Action: delayed"), std::string::npos) << msgs[0].data;
  EXPECT_NE(msgs[0].data.find("Will-Retry-Until:"), std::string::npos);
  EXPECT_NE(msgs[1].data.find("Action: failed"), std::string::npos) << msgs[1].data;
  EXPECT_NE(msgs[1].data.find("Status: 4.4.7"), std::string::npos) << msgs[1].data;
  EXPECT_NE(msgs[1].data.find("Greylisted"), std::string::npos);
  usleep(1500000);
  EXPECT_EQ(mx2_->messages().size(), 2u) << "one delay warning, one failure report";
}

TEST_F(Delivery, NotifyNeverMeansNoBounce) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("550 5.1.1 User unknown"); };
  start();
  std::string out =
      send_raw(port_,
               "EHLO c.test\nMAIL FROM:<alice@sender.test>\nRCPT TO:<x@example.test> NOTIFY=NEVER\n"
               "DATA\nSubject: n\n\nhello\n.\nQUIT\n");
  ASSERT_NE(out.find("queued as"), std::string::npos) << out;
  ASSERT_TRUE(serve_->wait_for_output("status=bounced")) << serve_->output();
  usleep(800000);
  EXPECT_EQ(mx2_->messages().size(), 0u);
}

TEST_F(Delivery, NotifySuccessGivesARelayedReport) {
  start();
  std::string out = send_raw(port_,
                             "EHLO c.test\nMAIL FROM:<alice@sender.test> ENVID=env42\n"
                             "RCPT TO:<ok@example.test> NOTIFY=SUCCESS ORCPT=rfc822;ok@example.test\n"
                             "DATA\nSubject: s\n\nhello\n.\nQUIT\n");
  ASSERT_NE(out.find("queued as"), std::string::npos) << out;
  ASSERT_TRUE(mx1_->wait_messages(1)) << serve_->output();
  ASSERT_TRUE(mx2_->wait_messages(1)) << serve_->output();
  auto r = mx2_->messages()[0].data;
  EXPECT_NE(r.find("Action: relayed"), std::string::npos) << r;
  EXPECT_NE(r.find("Original-Envelope-Id: env42"), std::string::npos) << r;
  EXPECT_NE(r.find("Original-Recipient: rfc822; ok@example.test"), std::string::npos) << r;
}

TEST_F(Delivery, BounceToADeadSenderDomainIsDroppedWithoutALoop) {
  mx1_->on_rcpt = [](const std::string&, int) { return std::string("550 5.1.1 User unknown"); };
  start();
  ASSERT_EQ(send_mail(port_, "alice@nowhere.test", {"x@example.test"}, "Subject: d\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("to=<alice@nowhere.test>")) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("dropped")) << serve_->output();
  for (int i = 0; i < 100 && queue_list() != "Mail queue is empty\n"; ++i) usleep(20000);
  EXPECT_EQ(queue_list(), "Mail queue is empty\n");
  std::string log = serve_->output();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n') < 60, true) << "no bounce storm:\n" << log;
}

}  // namespace
}  // namespace ferry
