// Integration: running Ferry as an operator does. /metrics scraped after traffic (counts match),
// /healthz; SIGHUP with a good config, a bad config and a new TLS certificate, without dropping
// an open connection; backpressure at a tiny LMDB map (MAIL gets 452 4.3.1, and recovers);
// SIGTERM during load loses nothing that got a 250; privilege drop when started as root; JSON logs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using test::Smtp;

class Ops : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string config = dir.file("ferry.toml");
  std::unique_ptr<test::Background> daemon;
  int smtp_port = 0;
  int metrics_port = 0;
  int starts = 0;  // one log file per start: a fresh daemon must not be judged by the last one's log

  // Deliveries go to a port where nothing listens: they are deferred and mail stays queued.
  std::string base(const std::string& extra) const {
    // Root runs these daemons on a root-owned temporary queue: say so (a missing run user is fatal).
    const std::string user = extra.find("user = ") == std::string::npos ? "user = \"root\"\n" : "";
    return "hostname = \"mx.ferry.test\"\n" + user + extra + "\n[queue]\npath = \"" + dir.file("q") +
           "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
           "[metrics]\nlisten = \"127.0.0.1:0\"\n[retry]\nfirst = \"1h\"\n"
           "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:1\"\n";
  }
  void write(const std::string& text) const { dir.write("ferry.toml", text); }

  void start() {
    daemon = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", config},
        dir.file("serve" + std::to_string(++starts) + ".log"));
    ASSERT_TRUE(daemon->wait_for_output("ready: ")) << daemon->output();  // not "already in use"
    smtp_port = test::port_after(daemon->output(), "listening on 127.0.0.1:");
    metrics_port = test::port_after(daemon->output(), "metrics on http://127.0.0.1:");
  }
  std::size_t count(const std::string& needle) const {
    std::string out = daemon->output();
    std::size_t n = 0;
    for (auto p = out.find(needle); p != std::string::npos; p = out.find(needle, p + 1)) ++n;
    return n;
  }
  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
};

class metrics_Endpoint : public Ops {};

TEST_F(metrics_Endpoint, CountsMatchAfterTraffic) {
  write(base(""));
  start();
  ASSERT_GT(metrics_port, 0) << daemon->output();
  {
    Smtp c(smtp_port);
    c.reply();
    c.cmd("EHLO client.example");
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(
          c.message("a@example.org", "r" + std::to_string(i) + "@example.net", "Subject: m\r\n\r\nbody")
              .starts_with("250"));
    EXPECT_TRUE(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    EXPECT_TRUE(c.cmd("RCPT TO:<nobody@localhost>").starts_with("550"));
    c.cmd("QUIT");
  }
  // Three recipients deferred (nothing listens on port 1).
  ASSERT_TRUE(daemon->wait_for_output("status=deferred")) << daemon->output();
  std::string page;
  for (int i = 0; i < 100; ++i) {
    auto [status, body] = test::http_get(metrics_port, "/metrics");
    ASSERT_EQ(status, 200) << body;
    page = body;
    if (test::sample(page, "ferry_delivery_recipients_total{result=\"deferred\"}") == 3.0) break;
    usleep(100 * 1000);
  }
  EXPECT_NE(page.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(test::sample(page, "ferry_smtp_messages_accepted_total"), 3.0) << page;
  EXPECT_EQ(test::sample(page, "ferry_smtp_connections_total"), 1.0);
  EXPECT_EQ(test::sample(page, "ferry_smtp_rejected_total{reason=\"unknown_recipient\",code=\"550\"}"), 1.0)
      << page;
  EXPECT_EQ(test::sample(page, "ferry_delivery_recipients_total{result=\"deferred\"}"), 3.0);
  EXPECT_EQ(test::sample(page, "ferry_delivery_recipients_total{result=\"delivered\"}"), 0.0);
  // Connection refused is "service_unavailable" (deferrals are counted by reply category).
  EXPECT_EQ(test::sample(
                page, "ferry_delivery_failures_total{result=\"deferred\",category=\"service_unavailable\"}"),
            3.0)
      << page;
  EXPECT_EQ(test::sample(page, "ferry_delivery_failures_total{result=\"bounced\",category=\"unknown_user\"}"),
            0.0);
  EXPECT_EQ(test::sample(page, "ferry_queue_messages"), 3.0);
  EXPECT_EQ(test::sample(page, "ferry_queue_recipients"), 3.0);
  EXPECT_GE(*test::sample(page, "ferry_queue_oldest_message_age_seconds"), 0.0);
  EXPECT_EQ(test::sample(page, "ferry_queue_map_size_bytes"), 16.0 * 1024 * 1024);
  EXPECT_GT(*test::sample(page, "ferry_queue_map_used_bytes"), 0.0);
  EXPECT_EQ(test::sample(page, "ferry_queue_accepting"), 1.0);
  EXPECT_EQ(test::sample(page, "ferry_smtp_connections_active"), 0.0);
  // 3 enqueues + 3 leases + 3 settles at least went through the group commit.
  EXPECT_GE(*test::sample(page, "ferry_queue_commit_batch_size_count"), 3.0);
  EXPECT_GE(*test::sample(page, "ferry_queue_commit_seconds_count"), 3.0);
  EXPECT_NE(page.find("ferry_delivery_delay_seconds_bucket{le=\"+Inf\"} 0"), std::string::npos);

  auto [hs, health] = test::http_get(metrics_port, "/healthz");
  EXPECT_EQ(hs, 200) << health;
  EXPECT_NE(health.find("ok: queue writable"), std::string::npos);
  EXPECT_EQ(test::http_get(metrics_port, "/nothing").first, 404);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(metrics_Endpoint, PortInUseIsAWarningNotAFailureAndEmptyDisables) {
  int busy = test::free_port();
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(busy));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  std::string text = base("");
  text.replace(text.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(busy));
  write(text);
  start();
  EXPECT_NE(daemon->output().find("warning: metrics: cannot listen"), std::string::npos) << daemon->output();
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
  ::close(holder);
  text = base("");
  text.replace(text.find("\"127.0.0.1:0\""), 13, "\"\"");
  write(text);
  start();
  EXPECT_EQ(daemon->output().find("metrics on"), std::string::npos);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

// RFC 5321 §4.5.4.1: a host that refused a connection is remembered as unreachable, so the next
// message does not try it again until [retry] first has passed; `ferry queue flush` forgets it.
class delivery_Unreachable : public Ops {};

TEST_F(delivery_Unreachable, RefusedHostIsSkippedUntilAFlush) {
  write(base(""));  // every route goes to [127.0.0.1]:1, where nothing listens; retry first = 1h
  start();
  auto send = [&](const std::string& rcpt) {
    Smtp c(smtp_port);
    c.reply();
    c.cmd("EHLO c.example");
    EXPECT_TRUE(c.message("a@example.org", rcpt, "Subject: u\r\n\r\nbody").starts_with("250"));
    c.cmd("QUIT");
  };
  send("one@example.net");
  ASSERT_TRUE(daemon->wait_for_output("to=<one@example.net>")) << daemon->output();
  EXPECT_EQ(count("Connection refused"), 1u) << daemon->output();
  send("two@example.net");
  ASSERT_TRUE(daemon->wait_for_output("to=<two@example.net>")) << daemon->output();
  EXPECT_NE(daemon->output().find("all hosts recently unreachable: [127.0.0.1]:1"), std::string::npos)
      << daemon->output();
  EXPECT_EQ(count("Connection refused"), 1u) << "the second message did not connect";
  EXPECT_EQ(count("category=service_unavailable"), 2u) << daemon->output();
  ASSERT_EQ(queue({"flush"}).exit_code, 0);
  for (int i = 0; i < 100 && count("Connection refused") < 2; ++i) usleep(50 * 1000);
  EXPECT_GE(count("Connection refused"), 2u) << "after a flush the host is tried again\n" << daemon->output();
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

class reload_Sighup : public Ops {};

TEST_F(reload_Sighup, GoodConfigAppliesWithoutDroppingAnOpenConnection) {
  write(base(""));
  start();
  Smtp open(smtp_port);
  open.reply();
  open.cmd("EHLO before.example");
  ASSERT_TRUE(open.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
  ASSERT_TRUE(open.cmd("RCPT TO:<b@example.net>").starts_with("250"));

  // The new configuration: no client may relay any more.
  write(base("") + "[relay]\nnetworks = []\n");
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reloaded configuration")) << daemon->output();

  // The connection opened before the reload finishes its transaction.
  ASSERT_TRUE(open.cmd("DATA").starts_with("354"));
  open.send("Subject: across a reload\r\n\r\nbody\r\n.\r\n");
  EXPECT_TRUE(open.reply().starts_with("250 2.0.0 Ok: queued as"));
  // A new connection gets the new policy.
  Smtp fresh(smtp_port);
  fresh.reply();
  fresh.cmd("EHLO after.example");
  fresh.cmd("MAIL FROM:<a@example.org>");
  EXPECT_TRUE(fresh.cmd("RCPT TO:<b@example.net>").starts_with("554 5.7.1")) << "relay now denied";
  auto page = test::http_get(metrics_port, "/metrics").second;
  EXPECT_EQ(test::sample(page, "ferry_config_reloads_total{result=\"ok\"}"), 1.0) << page;
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(reload_Sighup, BadConfigIsRefusedAndTheOldOneStays) {
  write(base(""));
  start();
  write("[queue\nthis is not toml\n");
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reload refused: configuration error")) << daemon->output();
  // A TLS certificate that cannot be loaded is refused too.
  write(base("") + "[tls]\ncertificate = \"" + dir.file("missing.pem") + "\"\nkey = \"" +
        dir.file("missing.key") + "\"\n");
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reload refused: TLS")) << daemon->output();
  EXPECT_TRUE(daemon->running());
  Smtp c(smtp_port);
  EXPECT_TRUE(c.reply().starts_with("220"));
  c.cmd("EHLO c.example");
  EXPECT_TRUE(c.message("a@example.org", "b@example.net", "Subject: s\r\n\r\nb").starts_with("250"))
      << "old policy";
  auto page = test::http_get(metrics_port, "/metrics").second;
  EXPECT_EQ(test::sample(page, "ferry_config_reloads_total{result=\"failed\"}"), 2.0) << page;
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

// SIGHUP reaches the delivery agent: a new [[route]] applies to a recipient already deferred
// (found by `ferry queue flush`), without a restart; a route whose password file cannot be read
// is refused and the running routes stay.
TEST_F(reload_Sighup, NewRouteAppliesToQueuedMail) {
  test::FakeMx mx("127.0.0.1");
  write(base(""));
  start();
  {
    Smtp c(smtp_port);
    c.reply();
    c.cmd("EHLO c.example");
    ASSERT_TRUE(
        c.message("a@example.org", "b@example.net", "Subject: rerouted\r\n\r\nbody").starts_with("250"));
    c.cmd("QUIT");
  }
  ASSERT_TRUE(daemon->wait_for_output("status=deferred")) << daemon->output();  // nothing on port 1

  const std::string route =
      "[[route]]\ndomain = \"example.net\"\nhost = \"[127.0.0.1]:" + std::to_string(mx.port()) + "\"\n";
  write(base("") + route + "auth_user = \"u\"\nauth_password_file = \"" + dir.file("missing") + "\"\n");
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output(
      "reload refused: configuration error: [[route]] example.net: auth_password_file"))
      << daemon->output();

  write(base("") + route);
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reloaded configuration")) << daemon->output();
  EXPECT_EQ(daemon->output().find("applied at the next restart"), std::string::npos) << daemon->output();
  ASSERT_EQ(queue({"flush"}).exit_code, 0);
  ASSERT_TRUE(mx.wait_messages(1)) << daemon->output();
  EXPECT_EQ(mx.messages().at(0).rcpt_to, std::vector<std::string>{"b@example.net"});
  EXPECT_TRUE(daemon->wait_for_output("status=sent")) << daemon->output();
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

std::string make_cert(const test::TempDir& dir, const std::string& name) {
  auto r = test::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir.file(name + ".key"), "-out",
                      dir.file(name + ".pem"), "-days", "2", "-subj", "/CN=" + name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return name;
}

std::string served_subject(int port) {
  auto r = test::run(
      {"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + std::to_string(port)},
      "", 20);
  auto at = r.out.find("subject=");
  return at == std::string::npos ? r.out + r.err : r.out.substr(at, r.out.find('\n', at) - at);
}

TEST_F(reload_Sighup, TlsCertificateIsReloaded) {
  make_cert(dir, "one.ferry.test");
  make_cert(dir, "two.ferry.test");
  // The configuration names fixed paths; the files behind them are replaced (as certbot does).
  auto copy = [&](const std::string& from) {
    std::ifstream c(dir.file(from + ".pem")), k(dir.file(from + ".key"));
    std::stringstream cs, ks;
    cs << c.rdbuf();
    ks << k.rdbuf();
    dir.write("cert.pem", cs.str());
    dir.write("cert.key", ks.str());
  };
  copy("one.ferry.test");
  write(base("") + "[tls]\ncertificate = \"" + dir.file("cert.pem") + "\"\nkey = \"" + dir.file("cert.key") +
        "\"\n");
  start();
  EXPECT_NE(served_subject(smtp_port).find("one.ferry.test"), std::string::npos);
  copy("two.ferry.test");
  ::kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reloaded configuration")) << daemon->output();
  EXPECT_NE(served_subject(smtp_port).find("two.ferry.test"), std::string::npos);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

class backpressure_TinyMap : public Ops {};

TEST_F(backpressure_TinyMap, MailGets452WhenShortOfSpaceAndRecovers) {
  std::string text = base("");
  text.replace(text.find("max_size = \"16MiB\""), 18, "max_size = \"1MiB\"\nmin_free = \"20%\"");
  write(text + "[smtp]\nmax_message_size = \"64KiB\"\n");
  start();
  const std::string body = "Subject: filler\r\n\r\n" + std::string(40 * 1024, 'x');
  std::vector<std::string> accepted;
  std::string refusal;
  Smtp c(smtp_port);
  c.reply();
  c.cmd("EHLO filler.example");
  for (int i = 0; i < 60 && refusal.empty(); ++i) {
    std::string r = c.message("a@example.org", "b@example.net", body);
    if (r.starts_with("250"))
      accepted.push_back(test::queued_id(r));
    else
      refusal = r;
    usleep(250 * 1000);  // the daemon re-checks the free space at most every 200 ms
  }
  ASSERT_TRUE(refusal.starts_with("452 4.3.1")) << refusal << " after " << accepted.size() << " messages";
  EXPECT_GE(accepted.size(), 5u);
  EXPECT_TRUE(daemon->wait_for_output("queue short of space")) << daemon->output();
  // Nothing that got a 250 is missing.
  auto list = queue({"list", "--json"}).out;
  for (const auto& id : accepted) EXPECT_NE(list.find(id), std::string::npos) << id;
  auto page = test::http_get(metrics_port, "/metrics").second;
  EXPECT_EQ(test::sample(page, "ferry_queue_accepting"), 0.0) << page;
  EXPECT_GE(*test::sample(page, "ferry_smtp_rejected_total{reason=\"queue_full\",code=\"452\"}"), 1.0)
      << page;
  auto [hs, health] = test::http_get(metrics_port, "/healthz");
  EXPECT_EQ(hs, 200);
  EXPECT_NE(health.find("refusing new mail"), std::string::npos) << health;

  // Deleting messages frees map pages: MAIL is accepted again.
  for (const auto& id : accepted) EXPECT_EQ(queue({"delete", id}).exit_code, 0);
  EXPECT_TRUE(daemon->wait_for_output("queue has space again")) << daemon->output();
  EXPECT_TRUE(c.message("a@example.org", "b@example.net", "Subject: again\r\n\r\nok").starts_with("250"));
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

class run_Lifecycle : public Ops {};

TEST_F(run_Lifecycle, SigtermDuringLoadLosesNothing) {
  write(base(""));
  start();
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> attempts{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      Smtp c(smtp_port);
      if (!c.reply().starts_with("220")) return;
      c.cmd("EHLO load" + std::to_string(t) + ".example");
      for (int i = 0; i < 2000; ++i) {
        ++attempts;
        std::string r =
            c.message("a@example.org", "b@example.net", "Subject: load\r\n\r\nmessage " + std::to_string(i));
        if (!r.starts_with("250")) return;  // 421 shutting down, or closed
        std::lock_guard lock(mutex);
        acknowledged.insert(test::queued_id(r));
      }
    });
  }
  usleep(700 * 1000);
  ::kill(daemon->pid(), SIGTERM);
  for (auto& t : clients) t.join();
  // Wait for the exit the one SIGTERM above asked for (signal 0 only probes). A second SIGTERM
  // would race the end of the graceful stop: sent after the handlers are gone, it kills the
  // finished daemon (exit 143); sent before, it means "stop at once".
  EXPECT_EQ(daemon->stop(0, 30000), 0) << daemon->output();
  ASSERT_GT(acknowledged.size(), 8u) << "the load did not run";
  auto list = queue({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0);
  std::size_t missing = 0;
  for (const auto& id : acknowledged) missing += list.out.find(id) == std::string::npos;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  std::cerr << "[ run_Lifecycle ] " << acknowledged.size()
            << " messages acknowledged before SIGTERM, all queued\n";
}

TEST_F(run_Lifecycle, StartedAsRootDropsToTheConfiguredUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  write(base("user = \"nobody\""));
  // The queue directory belongs to the run user already (systemd-tmpfiles or the installer
  // make it so); the daemon checks that and chowns nothing.
  ::chmod(dir.path().c_str(), 0755);
  ASSERT_EQ(::mkdir(dir.file("q").c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.file("q").c_str(), 65534, 65534), 0);
  start();
  EXPECT_TRUE(daemon->wait_for_output("dropped privileges to user nobody")) << daemon->output();
  std::ifstream status("/proc/" + std::to_string(daemon->pid()) + "/status");
  std::string line, uids;
  while (std::getline(status, line))
    if (line.starts_with("Uid:")) uids = line;
  EXPECT_EQ(uids, "Uid:\t65534\t65534\t65534\t65534");
  // The queue is the run user's: mail is accepted and committed.
  Smtp c(smtp_port);
  c.reply();
  c.cmd("EHLO c.example");
  EXPECT_TRUE(c.message("a@example.org", "b@example.net", "Subject: s\r\n\r\nb").starts_with("250"));
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("q").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(run_Lifecycle, JsonLogsAreOneObjectPerLine) {
  write(base("") + "[log]\nformat = \"json\"\n");
  start();
  Smtp c(smtp_port);
  c.reply();
  c.cmd("EHLO c.example");
  std::string id = test::queued_id(c.message("a@example.org", "b@example.net", "Subject: s\r\n\r\nb"));
  c.cmd("QUIT");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
  std::istringstream lines(daemon->output());
  std::string line;
  int n = 0;
  bool queued_line = false;
  while (std::getline(lines, line)) {
    ++n;
    EXPECT_TRUE(line.starts_with("{\"time\":\"") && line.ends_with("\"}")) << line;
    if (line.find("\"queue_id\":\"" + id + "\"") != std::string::npos &&
        line.find("queued") != std::string::npos)
      queued_line = true;
  }
  EXPECT_GT(n, 5);
  EXPECT_TRUE(queued_line) << daemon->output();
  // Validate with a real JSON parser too.
  dir.write("log.json", daemon->output());
  auto py = test::run({"/usr/bin/python3", "-c",
                       "import json,sys\nfor l in open(sys.argv[1]): json.loads(l)\nprint('ok')",
                       dir.file("log.json")});
  EXPECT_EQ(py.out, "ok\n") << py.err;
}

}  // namespace
}  // namespace ferry
