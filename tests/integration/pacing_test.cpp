// Integration: pacing driven by the replies. A real `ferry serve` delivers through dnsmasq's MX
// records to a fake MX that refuses messages above N per second with a provider's 421 "slow
// down"; Ferry, configured above N, backs off under N without losing or bouncing anything, then
// recovers to its configured rate once the limit is lifted. The test prints the trace: messages
// accepted and refused per second, and the pace rate Ferry logged.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"
#include "support/RateLimitedMx.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

constexpr int kLimit = 5;         // the fake MX accepts at most this many messages per second
constexpr int kFirstBatch = 30;   // sent while the limit holds
constexpr int kSecondBatch = 30;  // sent after the limit is lifted and the rate recovered

// One SMTP session that sends `count` messages, one recipient each: p<first>..@example.test.
std::string send_many(int port, int first, int count) {
  const std::string script =
      "import smtplib\n"
      "s=smtplib.SMTP('127.0.0.1'," +
      std::to_string(port) +
      ",timeout=20)\n"
      "for i in range(" +
      std::to_string(first) + "," + std::to_string(first + count) +
      "):\n"
      "  r=s.sendmail('app@sender.test',['p%d@example.test'%i],'Subject: m%d\\r\\n\\r\\nbody\\r\\n'%i)\n"
      "  assert not r, r\n"
      "s.quit()\nprint('ok')\n";
  auto res = test::run({"/usr/bin/env", "python3", "-c", script}, "", 60);
  return res.exit_code == 0 ? res.out.substr(0, res.out.find('\n')) : res.err;
}

class Pacing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::open_mx_pair(mx_, "127.0.0.2", bounces_, "127.0.0.3"));
    limited_ = std::make_unique<test::RateLimitedMx>(*mx_, kLimit);
    auto zone = test::loopback_mx_zone();
    zone.push_back("--mx-host=sender.test,mx2.failover.test,10");  // where a bounce would go
    dns_ = std::make_unique<test::DnsServer>(zone);
  }

  // Ferry with these [[pace]] rules. Short periods keep the tests to a few seconds.
  void start(const std::string& pace,
             const std::string& retry = "first = \"1s\"\nmax_interval = \"1s\"\nafter_greylist = \"1s\"\n") {
    dir_.write("ferry.toml", "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                                 dir_.file("q") +
                                 "\"\nmax_size = \"64MiB\"\n"
                                 "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                                 "[delivery]\nport = " +
                                 std::to_string(mx_->port()) +
                                 "\nconnect_timeout = \"2s\"\n"
                                 "[dns]\nservers = [\"" +
                                 dns_->address() +
                                 "\"]\n"
                                 "[metrics]\nlisten = \"127.0.0.1:0\"\n"
                                 "[retry]\n" +
                                 retry + pace);
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log" + std::to_string(starts_++)));  // a log of its own per start
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    port_ = test::port_from_log(serve_->output());
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    if (serve_) EXPECT_EQ(serve_->stop(SIGTERM, 20000), 0) << serve_->output();
  }

  // New "pace:" log lines since the last call, stamped with the fake MX's clock.
  void poll_pace_lines() {
    const std::string out = serve_->output();
    static const std::regex line(R"(pace: destination=(\S+) rate=(\S+) reason=(\S+))");
    std::size_t n = 0;
    for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
         ++it, ++n)
      if (n >= pace_.size()) pace_.push_back({limited_->now_s(), (*it)[2].str(), (*it)[3].str()});
  }

  // Polls (every 50 ms, at most `limit`) until `done` holds.
  template <typename F>
  bool wait_until(F done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      poll_pace_lines();
      if (done()) return true;
      usleep(50000);
    }
    poll_pace_lines();
    return done();
  }

  int delivered() { return static_cast<int>(limited_->accepted_by_rcpt().size()); }

  // The trace: per second, messages accepted and refused (421), and the pace rate last logged.
  void print_trace() {
    const auto events = limited_->events();
    int seconds = 0;
    for (const auto& e : events) seconds = std::max(seconds, static_cast<int>(e.at_s) + 1);
    std::printf("pacing trace (fake MX limit %d/s until the limit is lifted at %.1fs; Ferry rate 20/s)\n",
                kLimit, lifted_at_);
    std::printf("  second  accepted  refused(421)  pace rate (log)\n");
    std::size_t p = 0;
    std::string rate = "20/s";
    for (int s = 0; s < seconds; ++s) {
      int ok = 0, refused = 0;
      for (const auto& e : events)
        if (static_cast<int>(e.at_s) == s) (e.accepted ? ok : refused)++;
      std::string changes;
      for (; p < pace_.size() && pace_[p].at_s < s + 1; ++p) {
        rate = pace_[p].rate;
        changes += " " + pace_[p].rate + "(" + pace_[p].reason + ")";
      }
      std::printf("  %6d  %8d  %12d  %s%s\n", s, ok, refused, rate.c_str(), changes.c_str());
    }
    std::fflush(stdout);
  }

  struct PaceLine {
    double at_s;
    std::string rate, reason;
  };

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx_, bounces_;
  std::unique_ptr<test::RateLimitedMx> limited_;
  std::unique_ptr<test::DnsServer> dns_;
  std::unique_ptr<test::Background> serve_;
  std::vector<PaceLine> pace_;
  double lifted_at_ = 0;
  int port_ = 0;
  int starts_ = 0;
};

// Ferry may send 20/s (4 times the limit); the MX rule paces every domain whose MX hosts are
// under example.test.
constexpr const char* kMxRule =
    "[[pace]]\nmx = \"*.example.test\"\nrate = \"20/s\"\nbackoff_period = \"1s\"\n";

TEST_F(Pacing, BacksOffUnderTheLimitWithoutLosingMailAndRecovers) {
  start(kMxRule);
  ASSERT_EQ(send_many(port_, 0, kFirstBatch), "ok");
  // Phase 1: the limit holds. Every message gets through in the end.
  ASSERT_TRUE(wait_until([&] { return delivered() == kFirstBatch; }, 40s)) << serve_->output();
  const double phase1_end = limited_->now_s();
  // Converged: in the second half of phase 1 the MX refused few of what it was offered, far
  // fewer than in the first half, when Ferry sent at 20/s.
  int refused_first = 0, refused_second = 0, accepted_second = 0;
  for (const auto& e : limited_->events()) {
    const bool second = e.at_s >= phase1_end / 2;
    if (!e.accepted) (second ? refused_second : refused_first)++;
    if (e.accepted && second) ++accepted_second;
  }
  const std::size_t phase1_pace_lines = pace_.size();
  // Phase 2: the limit is lifted; Ferry steps back up to its configured 20/s (x1.5 a period).
  limited_->set_limit(0);
  lifted_at_ = limited_->now_s();
  const bool recovered = wait_until(
      [&] {
        return serve_->output().find("pace: destination=mx:*.example.test rate=20/s reason=recovered") !=
               std::string::npos;
      },
      phase1_pace_lines ? 20s : 0s);
  const double resent_at = limited_->now_s();
  ASSERT_EQ(send_many(port_, kFirstBatch, kSecondBatch), "ok");
  ASSERT_TRUE(wait_until([&] { return delivered() == kFirstBatch + kSecondBatch; }, 20s)) << serve_->output();
  const double phase2_s = limited_->now_s() - resent_at;
  print_trace();

  EXPECT_GT(refused_first, refused_second) << "the refusals did not fall";
  EXPECT_LE(refused_second * 4, accepted_second) << "still refused often at the end of phase 1";
  // Recovered: the second batch goes faster than the old limit allowed (30 messages at 5/s
  // would take 6 s).
  EXPECT_LT(phase2_s, static_cast<double>(kSecondBatch) / kLimit - 1.0) << "not faster than the old limit";
  // Nothing lost, nothing delivered twice, nothing bounced.
  for (const auto& [rcpt, n] : limited_->accepted_by_rcpt()) EXPECT_EQ(n, 1) << rcpt;
  EXPECT_EQ(serve_->output().find("status=bounced"), std::string::npos) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=expired"), std::string::npos);
  EXPECT_TRUE(bounces_->messages().empty()) << "a report was sent";
  std::string list;
  for (int i = 0; i < 100; ++i, usleep(50000))
    if ((list = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"}).out) ==
        "Mail queue is empty\n")
      break;
  EXPECT_EQ(list, "Mail queue is empty\n");
  // The log tells the operator: halved at the first refusal, back at 20/s after the lift.
  ASSERT_GT(phase1_pace_lines, 0u) << "no pace line logged\n" << serve_->output();
  EXPECT_EQ(pace_.front().rate, "10/s") << "the first rate limit halves 20/s";
  EXPECT_EQ(pace_.front().reason, "rate_limited");
  EXPECT_TRUE(recovered) << serve_->output();
}

// `ferry queue show` of a message waiting for its pace shows the destination's rate in force,
// from the state the daemon writes beside the queue.
TEST_F(Pacing, QueueShowShowsThePace) {
  start(kMxRule);
  limited_->set_limit(1);
  ASSERT_EQ(send_many(port_, 0, 12), "ok");
  ASSERT_TRUE(wait_until([&] { return !pace_.empty(); }, 20s)) << serve_->output();
  std::string shown;
  for (int tries = 0; tries < 50 && shown.empty(); ++tries) {
    usleep(100000);  // the daemon writes its state at most once a second
    const auto list = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"});
    std::smatch id;
    if (!std::regex_search(list.out, id, std::regex("^([0-9A-F]{16})", std::regex::multiline))) continue;
    const auto show =
        test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "show", id[1].str()});
    if (show.out.find("pace: example.test (mx:*.example.test): rate=") != std::string::npos &&
        show.out.find("backed off") != std::string::npos)
      shown = show.out;
  }
  ASSERT_FALSE(shown.empty()) << serve_->output();
  // The same rate as a gauge on /metrics (its port chosen by the kernel, read from the log).
  std::smatch port;
  const std::string log = serve_->output();
  ASSERT_TRUE(std::regex_search(log, port, std::regex(R"(metrics on http://127\.0\.0\.1:([0-9]+)/metrics)")))
      << log;
  const auto page =
      test::run({"/usr/bin/env", "python3", "-c",
                 "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:" + port[1].str() +
                     "/metrics',timeout=10).read().decode())"});
  std::smatch gauge;
  ASSERT_TRUE(std::regex_search(
      page.out, gauge,
      std::regex(R"re(ferry_pace_rate\{destination="mx:\*\.example\.test"\} ([0-9.e+-]+)\n)re")))
      << page.out << page.err;
  EXPECT_LT(std::stod(gauge[1].str()), 20.0) << "backed off under the configured 20/s";
  EXPECT_TRUE(
      std::regex_search(shown, std::regex("rate=[0-9.]+/s configured=20/s, backed off \\(rate_limited\\), "
                                          "next step up in [0-9]+s\n")))
      << shown;
  EXPECT_NE(shown.find("Pacing (as of "), std::string::npos) << shown;
  limited_->set_limit(0);
  ASSERT_TRUE(wait_until([&] { return delivered() == 12; }, 30s)) << serve_->output();
}

// The back-off is written beside the queue: a restarted daemon takes it up (logged "restored")
// instead of starting at full speed again; `queue show --json` carries it too.
TEST_F(Pacing, ABackOffSurvivesARestart) {
  const std::string rule = "[[pace]]\nmx = \"*.example.test\"\nrate = \"20/s\"\nbackoff_period = \"1m\"\n";
  start(rule);
  limited_->set_limit(1);
  ASSERT_EQ(send_many(port_, 0, 6), "ok");
  ASSERT_TRUE(wait_until([&] { return !pace_.empty(); }, 20s)) << serve_->output();
  const std::string halved = pace_.back().rate;
  std::string state;
  ASSERT_TRUE(wait_until(
      [&] {
        state = test::run({"/bin/cat", dir_.file("q") + "/pace-state"}).out;
        return state.find("d\tmx:*.example.test\t") != std::string::npos &&
               state.find("\t20\t1\t") != std::string::npos;  // configured 20, backed off
      },
      5s))
      << state;
  std::string json;
  for (int tries = 0; tries < 50 && json.empty(); ++tries, usleep(100000)) {
    const auto list = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list"});
    std::smatch id;
    if (!std::regex_search(list.out, id, std::regex("^([0-9A-F]{16})", std::regex::multiline))) continue;
    const auto show = test::run(
        {FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "show", "--json", id[1].str()});
    if (show.exit_code == 0) json = show.out;
  }
  EXPECT_NE(
      json.find("\"pace\":[{\"destination\":\"example.test\",\"key\":\"mx:*.example.test\",\"rate\":\""),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("\"configured\":\"20/s\",\"backed_off\":true"), std::string::npos) << json;
  ASSERT_EQ(serve_->stop(SIGTERM, 20000), 0) << serve_->output();
  serve_.reset();
  pace_.clear();
  start(rule);
  ASSERT_TRUE(wait_until([&] { return !pace_.empty(); }, 10s)) << serve_->output();
  EXPECT_EQ(pace_.front().reason, "restored") << serve_->output();
  EXPECT_EQ(pace_.front().rate, halved) << serve_->output();
  limited_->set_limit(0);
  ASSERT_TRUE(wait_until([&] { return delivered() == 6; }, 20s)) << serve_->output();
  for (const auto& [rcpt, n] : limited_->accepted_by_rcpt()) EXPECT_EQ(n, 1) << rcpt;
}

// connections = 1 and messages_per_connection = 3: nine messages go over three connections one
// after the other, each reused (not left to time out idle) until its third message.
TEST_F(Pacing, ConnectionsAndMessagesPerConnection) {
  limited_->set_limit(0);
  start("[[pace]]\ndomain = \"example.test\"\nconnections = 1\nmessages_per_connection = 3\n");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(send_many(port_, 0, 9), "ok");
  ASSERT_TRUE(wait_until([&] { return delivered() == 9; }, 20s)) << serve_->output();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(mx_->connections(), 3) << serve_->output();
  EXPECT_LT(took, 4s) << "a batch waited for an idle connection to time out";
  for (const auto& [rcpt, n] : limited_->accepted_by_rcpt()) EXPECT_EQ(n, 1) << rcpt;
}

// Greylisting is not throttling: the recipient is retried after [retry] after_greylist (1 s
// here, while the doubling schedule would wait an hour), and the destination is not slowed.
TEST_F(Pacing, GreylistedRetriesAfterTheGreylistDelayWithoutBackOff) {
  limited_->set_limit(0);
  mx_->on_rcpt = [](const std::string&, int attempt) {
    return attempt == 1 ? std::string("451 4.7.1 Greylisted, please try again later")
                        : std::string("250 2.1.5 Ok");
  };
  start("", "first = \"1h\"\nmax_interval = \"1h\"\nafter_greylist = \"1s\"\n");
  ASSERT_EQ(send_many(port_, 0, 1), "ok");
  ASSERT_TRUE(serve_->wait_for_output("category=greylisted")) << serve_->output();
  ASSERT_TRUE(wait_until([&] { return delivered() == 1; }, 10s)) << serve_->output();
  EXPECT_EQ(serve_->output().find("pace: "), std::string::npos) << serve_->output();
}

// A 421 greeting ("too many connections") slows a destination without any rule down too: from
// the rate it was sent at, halved; the message is deferred, not bounced.
TEST_F(Pacing, A421GreetingBacksOffADestinationWithoutRule) {
  mx_->greeting = "421 4.7.0 mx1.example.test Too many connections, slow down";
  start("");
  ASSERT_EQ(send_many(port_, 0, 1), "ok");
  ASSERT_TRUE(wait_until([&] { return !pace_.empty(); }, 10s)) << serve_->output();
  EXPECT_NE(serve_->output().find("pace: destination=example.test rate="), std::string::npos)
      << serve_->output();
  EXPECT_EQ(pace_.front().reason, "rate_limited");
  ASSERT_TRUE(serve_->wait_for_output("status=deferred")) << serve_->output();
  EXPECT_EQ(serve_->output().find("status=bounced"), std::string::npos) << serve_->output();
}

}  // namespace
}  // namespace ferry
