// Security: the SMTP protocol surface of the real `ferry serve`, driven the way a hostile client
// would: absurd BDAT sizes, slow and junk-sending clients, log injection through AUTH and HELO,
// sender-specified routing through relay domains. Each test starts its own daemon on port 0.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/Base64.hpp"
#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;

// A `ferry serve` with a temporary queue and one relay listener on a free port. `extra` is
// appended to the configuration ([smtp], [relay], [auth] sections).
struct Daemon {
  explicit Daemon(const std::string& extra, const std::string& passwd = "", int mx_port = 9) {
    std::string cfg = "hostname = \"mx.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("queue") +
                      "\"\nmax_size = \"64MiB\"\n[metrics]\nlisten = \"\"\n"
                      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                      "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
                      std::to_string(mx_port) + "\"\n";
    if (!passwd.empty()) {
      dir.write("passwd", passwd);
      // AUTH on this relay listener on purpose (it is off there by default).
      cfg += "[auth]\npassword_file = \"" + dir.file("passwd") +
             "\"\nallow_plaintext_loopback = true\non_relay_listeners = true\n";
    }
    cfg += extra;
    dir.write("ferry.toml", cfg);
    proc = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
    ready = proc->wait_for_output("ready: ", 30000);
    port = test::port_after(proc->output(), "listening on 127.0.0.1:");
    ready = ready && port > 0;
  }
  std::string log() const { return proc->output(); }
  bool wait_for_log(const std::string& needle, int timeout_ms = 10000) const {
    return proc->wait_for_output(needle, timeout_ms);
  }
  // Resident memory of the daemon in KiB (VmRSS), or -1.
  long rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(proc->pid()) + "/status");
    std::string key;
    while (in >> key) {
      if (key == "VmRSS:") {
        long v = -1;
        in >> v;
        return v;
      }
      std::getline(in, key);
    }
    return -1;
  }

  test::TempDir dir;
  std::unique_ptr<test::Background> proc;
  int port = 0;
  bool ready = false;
};

#define START_DAEMON(name, ...) \
  Daemon name{__VA_ARGS__};     \
  ASSERT_TRUE(name.ready) << name.log()

// Greeting and EHLO on a fresh connection.
void greet(test::Smtp& c) {
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.reply().starts_with("220 "));
  ASSERT_TRUE(c.cmd("EHLO client.test").starts_with("250"));
}

// Waits up to `timeout_ms` for data or the end of the stream on `c` (poll, no sleep).
bool readable(test::Smtp& c, int timeout_ms) {
  pollfd p{c.fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// True when the peer closed the connection within `timeout`: recv() returns 0 or an error
// (SO_RCVTIMEO of test::connect_local bounds each wait).
bool closed_by_peer(test::Smtp& c, std::chrono::seconds timeout) {
  const auto end = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < end) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// BDAT sizes: after one non-empty chunk, a saturated chunk size must not wrap the size check.

TEST(securitySmtpProtocol, SaturatedBdatSizeIsRefusedAndNothingIsBuffered) {
  START_DAEMON(ferry, "[smtp]\nmax_message_size = \"1MiB\"\n");
  test::Smtp c(ferry.port);
  greet(c);
  ASSERT_TRUE(c.cmd("MAIL FROM:<a@client.test>").starts_with("250"));
  ASSERT_TRUE(c.cmd("RCPT TO:<b@example.com>").starts_with("250"));
  ASSERT_TRUE(c.send("BDAT 1\r\nx"));
  ASSERT_TRUE(c.reply().starts_with("250"));
  const long before = ferry.rss_kib();
  ASSERT_TRUE(c.send("BDAT 99999999999999999999\r\n"));
  // Stream 64 MiB after it (the daemon may close at once: then send fails, which is fine).
  const std::string block(1 << 20, 'y');
  for (int i = 0; i < 64; ++i)
    if (!c.send(block)) break;
  // The 552 came when the chunk was announced; the 64 MiB were swallowed, not stored.
  const std::string reply = c.reply();
  EXPECT_TRUE(reply.starts_with("552 5.3.4")) << reply;
  const long after = ferry.rss_kib();
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 16 * 1024) << "RSS grew from " << before << " to " << after << " KiB";
  // The connection is still handled (the daemon reads on) and the daemon serves others.
  EXPECT_FALSE(readable(c, 0)) << "unexpected reply or close: " << c.reply();
  test::Smtp d(ferry.port);
  greet(d);
}

// ---------------------------------------------------------------------------------------------
// Sender-specified routing through a relay domain, from a client that is not trusted.

TEST(securitySmtpProtocol, UntrustedRoutingThroughRelayDomainIsRefused) {
  START_DAEMON(ferry, "[relay]\nnetworks = []\ndomains = [\"backup.test\"]\n");
  test::Smtp c(ferry.port);
  greet(c);
  ASSERT_TRUE(c.cmd("MAIL FROM:<a@client.test>").starts_with("250"));
  for (const char* rcpt :
       {"u%evil.test@backup.test", "u!evil.test@backup.test", "\"u@evil.test\"@backup.test"}) {
    const std::string r = c.cmd(std::string("RCPT TO:<") + rcpt + ">");
    EXPECT_TRUE(r.starts_with("550 5.7.1")) << rcpt << ": " << r;
  }
  EXPECT_TRUE(c.cmd("RCPT TO:<user@backup.test>").starts_with("250"));
}

// ---------------------------------------------------------------------------------------------
// Log injection: client and remote text never makes a log line of its own or reaches a terminal
// raw.

using test::b64;

// True when some line of `log` starts with `prefix`.
bool has_line_starting(const std::string& log, const std::string& prefix) {
  if (log.starts_with(prefix)) return true;
  return log.find("\n" + prefix) != std::string::npos;
}

TEST(securitySmtpProtocol, AuthUserNameCannotInjectALogLine) {
  // Any hash will do: the user does not exist and the password is wrong.
  START_DAEMON(ferry, "", "alice:$6$salt$invalid\n");
  test::Smtp c(ferry.port);
  greet(c);
  const std::string user = "bob\r\nfake log line";
  const std::string r = c.cmd("AUTH PLAIN " + b64(std::string("\0", 1) + user + std::string("\0", 1) + "pw"));
  EXPECT_TRUE(r.starts_with("535")) << r;
  ASSERT_TRUE(ferry.wait_for_log("authentication failed for user")) << ferry.log();
  const std::string log = ferry.log();
  EXPECT_FALSE(has_line_starting(log, "fake log line")) << log;
  EXPECT_NE(log.find("bob\\x0D\\x0Afake log line"), std::string::npos) << log;
}

TEST(securitySmtpProtocol, HeloWithControlCharactersIsRefused) {
  START_DAEMON(ferry, "");
  test::Smtp c(ferry.port);
  ASSERT_TRUE(c.reply().starts_with("220 "));
  const std::string r = c.cmd("EHLO evil\x1b[2J.test");
  EXPECT_TRUE(r.starts_with("501 5.5.2")) << r;
  EXPECT_TRUE(c.cmd("EHLO client.test").starts_with("250"));
}

TEST(securitySmtpProtocol, RemoteReplyIsEscapedInLogAndQueueShow) {
  test::FakeMx mx("127.0.0.1");
  mx.on_rcpt = [](const std::string&, int) {
    return std::string(
        "451 4.7.1 later\x1b[2J\x07 \xFF"
        "beep");
  };
  START_DAEMON(ferry, "", "", mx.port());
  test::Smtp c(ferry.port);
  greet(c);
  const std::string reply = c.message("a@client.test", "b@example.com", "Subject: x\r\n\r\nbody");
  const std::string id = test::queued_id(reply);
  ASSERT_FALSE(id.empty()) << reply;
  ASSERT_TRUE(ferry.wait_for_log("status=deferred", 30000)) << ferry.log();
  const std::string log = ferry.log();
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
  EXPECT_EQ(log.find('\x07'), std::string::npos) << log;
  EXPECT_NE(log.find("later\\x1B[2J\\x07 \xEF\xBF\xBD"
                     "beep"),
            std::string::npos)
      << log;
  auto show =
      test::run({FERRY_BINARY, "queue", "--config", ferry.dir.file("ferry.toml"), "show", id}, "", 30);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("later\\x1B[2J\\x07 \xEF\xBF\xBD"
                          "beep"),
            std::string::npos)
      << show.out;
}

// ---------------------------------------------------------------------------------------------
// Slow and junk-sending clients.

TEST(securitySmtpProtocol, DribblingClientHitsTheTransactionTimeout) {
  START_DAEMON(ferry, "[smtp]\ntransaction_timeout = \"2s\"\n");
  test::Smtp c(ferry.port);
  greet(c);
  ASSERT_TRUE(c.cmd("MAIL FROM:<a@client.test>").starts_with("250"));
  ASSERT_TRUE(c.cmd("RCPT TO:<b@example.com>").starts_with("250"));
  ASSERT_TRUE(c.cmd("DATA").starts_with("354"));
  // One octet every 0.5 s: each read completes long before data_timeout (5 min).
  const auto start = Clock::now();
  int sent = 0;
  while (!readable(c, 500) && Clock::now() - start < std::chrono::seconds(30)) {
    if (!c.send("x")) break;
    ++sent;
  }
  const std::string reply = c.reply();
  EXPECT_TRUE(reply.starts_with("421 4.4.2 mx.test Error: transaction timeout exceeded")) << reply;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20)) << "after " << sent << " octets";
  EXPECT_TRUE(closed_by_peer(c, std::chrono::seconds(10)));
  EXPECT_TRUE(ferry.wait_for_log("(transaction timeout)")) << ferry.log();
}

TEST(securitySmtpProtocol, JunkCommandsEndTheSession) {
  START_DAEMON(ferry, "[smtp]\njunk_command_limit = 5\n");
  test::Smtp c(ferry.port);
  greet(c);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.cmd("NOOP").starts_with("250")) << i;
  const std::string r = c.cmd("NOOP");
  EXPECT_TRUE(r.starts_with("421 4.7.0")) << r;
  EXPECT_TRUE(closed_by_peer(c, std::chrono::seconds(10)));
}

// More than 80% of max_connections in use: new waits, and the connections already waiting for a
// command, use stress_command_timeout (1 s here) instead of command_timeout (5 min); the start
// and the end of stress mode are logged.
TEST(securitySmtpProtocol, StressModeShortensTheCommandTimeout) {
  START_DAEMON(ferry,
               "[smtp]\nmax_connections = 10\nmax_connections_per_ip = 10\ncommand_timeout = \"5m\"\n"
               "stress_command_timeout = \"1s\"\n");
  std::vector<std::unique_ptr<test::Smtp>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<test::Smtp>(ferry.port));
    ASSERT_TRUE(idle.back()->reply().starts_with("220 ")) << i;
  }
  EXPECT_EQ(ferry.log().find("stress mode on"), std::string::npos) << "8 of 10 is not stress";
  test::Smtp ninth(ferry.port);
  ASSERT_TRUE(ninth.reply().starts_with("220 "));
  ASSERT_TRUE(ferry.wait_for_log("stress mode on: 9 of 10 connections in use")) << ferry.log();
  const auto start = Clock::now();
  const std::string r = ninth.reply();  // SO_RCVTIMEO (10 s) bounds the wait
  EXPECT_TRUE(r.starts_with("421 4.4.2 mx.test Error: timeout exceeded")) << r;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(9));
  // The first connection was already waiting (5 min) when stress began: it is cut short too.
  const std::string first = idle[0]->reply();
  EXPECT_TRUE(first.starts_with("421 4.4.2 mx.test Error: timeout exceeded")) << first;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(9));
  EXPECT_TRUE(ferry.wait_for_log("stress mode off: 8 of 10 connections in use")) << ferry.log();
}

}  // namespace
}  // namespace ferry
