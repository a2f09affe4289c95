// Integration: TLS of outbound delivery with a real `ferry serve`: the opportunistic fallback
// after a failed STARTTLS handshake (plaintext at once, remembered for a while, forgotten by a
// flush) and "verify" against an IP-literal smarthost with tls_name and a private CA.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"
#include "support/TestCa.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;

constexpr int kExitConfig = 78;

// One ferry daemon in its own directory.
struct Ferry {
  test::TempDir dir;
  std::unique_ptr<test::Background> proc;
  int port = 0;
  void write(const std::string& name, const std::string& body) {
    dir.write("ferry.toml", "hostname = \"" + name + "\"\nuser = \"root\"\n[queue]\npath = \"" +
                                dir.file("q") + "\"\nmax_size = \"64MiB\"\n" + body);
  }
  void start(const std::string& name, const std::string& body) {
    write(name, body);
    proc = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
    ASSERT_TRUE(proc->wait_for_output("ready: ")) << proc->output();
    port = port_from_log(proc->output());
  }
  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", dir.file("ferry.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
  ~Ferry() {
    if (proc) proc->stop(SIGTERM);
  }
};

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Waits (bounded) until `needle` occurs `n` times in the daemon's log.
bool wait_count(const Ferry& f, const std::string& needle, std::size_t n, int timeout_ms = 15000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (count(f.proc->output(), needle) >= n) return true;
    usleep(20000);
  }
  return false;
}

// The queue id of the message whose log line names `rcpt`.
std::string queue_id_of(const std::string& log, const std::string& rcpt) {
  const auto at = log.find(": to=<" + rcpt + ">");
  if (at == std::string::npos) return {};
  const auto start = log.rfind(' ', at) + 1;
  return log.substr(start, at - start);
}

// A server offering STARTTLS whose handshake always fails: the delivery goes through in
// plaintext at once, says so in the log and in `queue show`, and later mail skips STARTTLS there
// until a flush forgets the failure.
TEST(TlsFallback, FailedHandshakeIsRetriedInPlaintextAtOnceAndForgottenByAFlush) {
  test::FakeMx mx("127.0.0.2");
  mx.ehlo_extensions = "PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME";
  mx.broken_starttls = true;
  mx.on_rcpt = [](const std::string& rcpt, int) {
    return rcpt.rfind("later", 0) == 0 ? std::string("451 4.3.0 try later") : std::string("250 2.1.5 Ok");
  };
  test::DnsServer dns(test::loopback_mx_zone());
  Ferry f;
  f.start("ferry.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[delivery]\nport = " +
              std::to_string(mx.port()) +
              "\nconnect_timeout = \"2s\"\nidle_timeout = \"100ms\"\n[dns]\nservers = [\"" + dns.address() +
              "\"]\n[retry]\nfirst = \"1h\"\n");

  ASSERT_EQ(send_mail(f.port, "a@sender.test", {"later@example.test"}, "Subject: one\n\nx\n"), "ok");
  ASSERT_TRUE(f.proc->wait_for_output("to=<later@example.test>")) << f.proc->output();
  EXPECT_EQ(mx.starttls_count(), 1);
  EXPECT_NE(
      f.proc->output().find("tls=fallback-after-handshake-failure, tls_policy=opportunistic, category="),
      std::string::npos)
      << f.proc->output();
  EXPECT_NE(f.proc->output().find("status=deferred (451 4.3.0 try later)"), std::string::npos)
      << f.proc->output();
  const std::string id = queue_id_of(f.proc->output(), "later@example.test");
  ASSERT_FALSE(id.empty()) << f.proc->output();
  auto show = f.queue({"show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("tls=fallback-after-handshake-failure"), std::string::npos) << show.out;

  // Remembered: the next message is sent in plaintext without another handshake.
  ASSERT_EQ(send_mail(f.port, "a@sender.test", {"now@example.test"}, "Subject: two\n\nx\n"), "ok");
  ASSERT_TRUE(mx.wait_messages(1)) << f.proc->output();
  ASSERT_TRUE(f.proc->wait_for_output("to=<now@example.test>")) << f.proc->output();
  EXPECT_EQ(mx.starttls_count(), 1);
  EXPECT_EQ(count(f.proc->output(), "tls=fallback-after-handshake-failure"), 2u) << f.proc->output();

  // A flush retries the deferred message now, and with TLS again (on a new connection: wait
  // until every connection so far has ended, by QUIT or by the broken handshake).
  for (int i = 0; i < 500 && mx.quit_count() + mx.starttls_count() < mx.connections(); ++i) usleep(20000);
  ASSERT_EQ(mx.quit_count() + mx.starttls_count(), mx.connections());
  ASSERT_EQ(f.queue({"flush"}).exit_code, 0);
  ASSERT_TRUE(wait_count(f, "to=<later@example.test>", 2)) << f.proc->output();
  EXPECT_EQ(mx.starttls_count(), 2) << f.proc->output();
}

class VerifyTest : public ::testing::Test {
 protected:
  // A private CA and a certificate for smarthost.test issued by it; b presents it.
  void SetUp() override {
    const std::string d = b.dir.path();
    ASSERT_TRUE(test::make_test_ca(d, "FerryPrivateCA"));
    ASSERT_TRUE(test::make_host_certificate(d, "smarthost.test", "host"));
    ca = d + "/ca.pem";
    b.start("smarthost.test",
            "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[tls]\ncertificate = \"" + d +
                "/host.pem\"\nkey = \"" + d +
                "/host.key\"\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n"
                "[retry]\nfirst = \"1h\"\n");
  }
  std::string route(const std::string& tls_name) {
    return "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[retry]\nfirst = \"1h\"\n"
           "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
           std::to_string(b.port) +
           "\"\ntls = \"verify\"\n"
           "tls_name = \"" +
           tls_name + "\"\ntls_ca_file = \"" + ca + "\"\n";
  }
  Ferry b, a;
  std::string ca;
};

// An IP-literal smarthost under "verify": the certificate must carry tls_name and chain to the
// route's private CA (the system store does not know it).
TEST_F(VerifyTest, LiteralHostIsVerifiedAgainstTlsNameAndThePrivateCa) {
  a.start("a.test", route("smarthost.test"));
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: verified\n\nhi\n"), "ok");
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 15000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=sent"), std::string::npos) << a.proc->output();
  EXPECT_NE(a.proc->output().find(", tls_policy=verify, "), std::string::npos) << a.proc->output();
  EXPECT_TRUE(b.proc->wait_for_output("proto=ESMTPS")) << b.proc->output();
}

// `ferry probe --config` checks the same identity against the same CA as delivery does.
TEST_F(VerifyTest, ProbeVerifiesTheRoutesTlsNameWithItsCa) {
  a.write("a.test", route("smarthost.test"));
  auto r = test::run({FERRY_BINARY, "probe", "--config", a.dir.file("ferry.toml"), "bob@far.test"}, {}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified for smarthost.test against tls_ca_file " + ca + ": yes"), std::string::npos)
      << r.out;
  a.write("a.test", route("other.test"));
  auto wrong =
      test::run({FERRY_BINARY, "probe", "--config", a.dir.file("ferry.toml"), "bob@far.test"}, {}, 60);
  EXPECT_NE(wrong.exit_code, 0) << wrong.out;
  EXPECT_NE(wrong.out.find("verified for other.test against tls_ca_file " + ca + ": NO"), std::string::npos)
      << wrong.out;
}

// A certificate from the trusted CA but for another name is refused: nothing reaches b.
TEST_F(VerifyTest, CertificateForAnotherNameIsRefused) {
  a.start("a.test", route("other.test"));
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: wrong name\n\nhi\n"), "ok");
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 15000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=deferred"), std::string::npos) << a.proc->output();
  EXPECT_EQ(b.proc->output().find("nrcpt="), std::string::npos) << b.proc->output();
}

// "verify" with an IP-literal host and no tls_name would check no name at all: a configuration
// error with its position, for check-config and serve alike.
TEST(VerifyConfig, LiteralHostWithoutTlsNameIsAConfigError) {
  Ferry f;
  f.write("a.test", "[[route]]\ndomain = \"*\"\nhost = \"[192.0.2.10]:587\"\ntls = \"verify\"\n");
  auto r = test::run({FERRY_BINARY, "check-config", f.dir.file("ferry.toml")});
  EXPECT_EQ(r.exit_code, kExitConfig) << r.out << r.err;
  EXPECT_NE(r.err.find(f.dir.file("ferry.toml") + ":8:8: route[0].tls_name: "), std::string::npos) << r.err;
  auto s = test::run({FERRY_BINARY, "serve", "--config", f.dir.file("ferry.toml")}, "", 30);
  EXPECT_EQ(s.exit_code, kExitConfig) << s.err;
}

}  // namespace
}  // namespace ferry
