// Integration: Ferry relaying to other real SMTP servers: another Ferry (end to end, and as a
// smarthost with AUTH over STARTTLS, implicit TLS and certificate verification), and Postfix's
// smtp-sink as a fast MX.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/TestCa.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;

using namespace std::chrono_literals;

// One ferry daemon in its own directory.
struct Ferry {
  test::TempDir dir;
  std::unique_ptr<test::Background> proc;
  int port = 0;
  void start(const std::string& name, const std::string& body) {
    dir.write("ferry.toml", "hostname = \"" + name + "\"\nuser = \"root\"\n[queue]\npath = \"" +
                                dir.file("q") + "\"\nmax_size = \"64MiB\"\n" + body);
    proc = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
    ASSERT_TRUE(proc->wait_for_output("ready: ")) << proc->output();
    port = port_from_log(proc->output());
  }
  std::string list_json() {
    return test::run({FERRY_BINARY, "queue", "--config", dir.file("ferry.toml"), "list", "--json"}).out;
  }
  ~Ferry() {
    if (proc) proc->stop(SIGTERM);
  }
};

// Where nothing listens: a relay that holds its mail instead of sending it anywhere real.
const std::string kHoldRoute =
    "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n";

TEST(Relay, FerryToFerryEndToEnd) {
  Ferry b, a;
  b.start("b.test", "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n" + kHoldRoute);
  a.start("a.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[[route]]\ndomain = \"*\"\nhost "
          "= \"[127.0.0.1]:" +
              std::to_string(b.port) + "\"\n");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test", "carol@far.test"}, "Subject: e2e\n\nhello\n"),
            "ok");
  ASSERT_TRUE(b.proc->wait_for_output("nrcpt=2")) << a.proc->output() << b.proc->output();
  EXPECT_TRUE(b.proc->wait_for_output("proto=ESMTPS")) << "opportunistic STARTTLS between two Ferries";
  ASSERT_TRUE(a.proc->wait_for_output("to=<carol@far.test>"));
  EXPECT_NE(a.proc->output().find("status=sent (250 2.0.0 Ok: queued as "), std::string::npos)
      << a.proc->output();
  std::string json = b.list_json();
  EXPECT_NE(json.find("\"sender\":\"alice@a.test\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"address\":\"carol@far.test\""), std::string::npos) << json;
}

class Smarthost : public ::testing::Test {
 protected:
  void SetUp() override {
    // user "relay" with password "s3cret" (sha512-crypt, as `openssl passwd -6` makes it).
    auto hash = test::run({"/usr/bin/openssl", "passwd", "-6", "-salt", "ferrytestsalt", "s3cret"});
    ASSERT_EQ(hash.exit_code, 0) << hash.err;
    b.dir.write("passwd", "relay:" + hash.out);
    a_dir_pw = b.dir.file("client-password");
    b.dir.write("client-password", "s3cret\n");
  }
  Ferry b, a;
  std::string a_dir_pw;
};

TEST_F(Smarthost, AuthOverStartTls) {
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\nrelay_networks = []\n"
          "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  a.start("a.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[[route]]\ndomain = \"*\"\nhost "
          "= \"[127.0.0.1]:" +
              std::to_string(b.port) +
              "\"\ntls = \"required\"\nauth_user = \"relay\"\nauth_password_file = \"" + a_dir_pw + "\"\n");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: smarthost\n\nhi\n"), "ok");
  ASSERT_TRUE(b.proc->wait_for_output("authenticated relay")) << b.proc->output() << a.proc->output();
  ASSERT_TRUE(b.proc->wait_for_output("proto=ESMTPSA")) << b.proc->output();
  ASSERT_TRUE(a.proc->wait_for_output("status=sent")) << a.proc->output();
}

TEST_F(Smarthost, WrongPasswordIsDeferredNotBounced) {
  b.dir.write("client-password", "wrong\n");
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\nrelay_networks = []\n"
          "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  a.start("a.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[[route]]\ndomain = \"*\"\nhost "
          "= \"[127.0.0.1]:" +
              std::to_string(b.port) +
              "\"\ntls = \"required\"\nauth_user = \"relay\"\nauth_password_file = \"" + a_dir_pw + "\"\n");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: smarthost\n\nhi\n"), "ok");
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 15000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=deferred"), std::string::npos) << a.proc->output();
  EXPECT_NE(a.proc->output().find("535"), std::string::npos) << a.proc->output();
}

TEST_F(Smarthost, AuthOverImplicitTls) {
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submissions\"\nrelay_networks = []\n"
          "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  a.start("a.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[[route]]\ndomain = \"*\"\nhost "
          "= \"[127.0.0.1]:" +
              std::to_string(b.port) +
              "\"\ntls = \"required\"\nimplicit_tls = true\nauth_user = \"relay\"\n"
              "auth_password_file = \"" +
              a_dir_pw + "\"\n");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: smarthost\n\nhi\n"), "ok");
  ASSERT_TRUE(b.proc->wait_for_output("proto=ESMTPSA")) << b.proc->output() << a.proc->output();
  ASSERT_TRUE(a.proc->wait_for_output("status=sent")) << a.proc->output();
}

TEST_F(Smarthost, VerifiesTheCertificateAgainstATrustedCa) {
  // A test CA the client trusts (SSL_CERT_FILE), and a certificate for smarthost.test.
  const std::string d = b.dir.path();
  ASSERT_TRUE(test::make_test_ca(d, "FerryTestCA"));
  ASSERT_TRUE(test::make_host_certificate(d, "smarthost.test", "host"));
  test::DnsServer dns({"--host-record=smarthost.test,127.0.0.1"});
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\nrelay_networks = []\n"
          "[tls]\ncertificate = \"" +
              d + "/host.pem\"\nkey = \"" + d +
              "/host.key\"\n"
              "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  setenv("SSL_CERT_FILE", (d + "/ca.pem").c_str(), 1);
  a.start("a.test", "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[dns]\nservers = [\"" +
                        dns.address() +
                        "\"]\n[[route]]\ndomain = \"*\"\nhost = \"smarthost.test:" + std::to_string(b.port) +
                        "\"\ntls = \"verify\"\nauth_user = \"relay\"\nauth_password_file = \"" + a_dir_pw +
                        "\"\n");
  unsetenv("SSL_CERT_FILE");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: verified\n\nhi\n"), "ok");
  ASSERT_TRUE(b.proc->wait_for_output("proto=ESMTPSA")) << b.proc->output() << a.proc->output();
  ASSERT_TRUE(a.proc->wait_for_output("status=sent")) << a.proc->output();
}

TEST_F(Smarthost, UntrustedCertificateUnderVerifyIsTransient) {
  test::DnsServer dns({"--host-record=smarthost.test,127.0.0.1"});
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\nrelay_networks = []\n"
          "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  a.start("a.test", "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[dns]\nservers = [\"" +
                        dns.address() +
                        "\"]\n[[route]]\ndomain = \"*\"\nhost = \"smarthost.test:" + std::to_string(b.port) +
                        "\"\ntls = \"verify\"\nauth_user = \"relay\"\nauth_password_file = \"" + a_dir_pw +
                        "\"\n");
  ASSERT_EQ(send_mail(a.port, "alice@a.test", {"bob@far.test"}, "Subject: unverified\n\nhi\n"), "ok");
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 15000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=deferred"), std::string::npos) << a.proc->output();
  EXPECT_EQ(b.proc->output().find("queued"), std::string::npos);
}

// The README's smarthost check: `ferry probe --config` without an address probes [local] admin
// through the configured route (STARTTLS, AUTH with the password file, RCPT), and --send-test
// delivers a test message there from the masquerade domain. A wrong password fails the check.
TEST_F(Smarthost, ProbeConfigChecksTheAdminRouteAndSendTestDelivers) {
  b.start("smarthost.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\nrelay_networks = []\n"
          "[auth]\npassword_file = \"" +
              b.dir.file("passwd") + "\"\n" + kHoldRoute);
  const std::string route = "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" + std::to_string(b.port) +
                            "\"\ntls = \"required\"\nauth_user = \"relay\"\nauth_password_file = \"";
  a.dir.write("ferry.toml",
              "hostname = \"vm.test\"\n[local]\nadmin = \"ops@example.com\"\n"
              "masquerade = \"example.com\"\n" +
                  route + a_dir_pw + "\"\n");
  const std::string config = a.dir.file("ferry.toml");
  auto check = test::run({FERRY_BINARY, "probe", "--config", config}, {}, 60);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("ops@example.com"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("235"), std::string::npos) << "authenticated\n" << check.out;
  EXPECT_NE(check.out.find(", TLS required\n"), std::string::npos) << "the route's TLS policy\n" << check.out;
  EXPECT_EQ(b.proc->output().find("queued"), std::string::npos) << "nothing sent without --send-test";

  auto sent = test::run({FERRY_BINARY, "probe", "--config", config, "--send-test"}, {}, 60);
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  ASSERT_TRUE(b.proc->wait_for_output("nrcpt=1")) << b.proc->output();
  const std::string json = b.list_json();
  EXPECT_NE(json.find("\"sender\":\"postmaster@example.com\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"address\":\"ops@example.com\""), std::string::npos) << json;

  b.dir.write("client-password", "wrong\n");
  auto refused = test::run({FERRY_BINARY, "probe", "--config", config}, {}, 60);
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("535"), std::string::npos) << refused.out;
  // Without an admin there is nothing to probe: a usage error that says what to give.
  a.dir.write("ferry.toml", route + a_dir_pw + "\"\n");
  auto nothing = test::run({FERRY_BINARY, "probe", "--config", config}, {}, 60);
  EXPECT_EQ(nothing.exit_code, 64);
  EXPECT_NE(nothing.err.find("no ADDRESS given and [local] admin is not set"), std::string::npos)
      << nothing.err;
}

TEST(Relay, SmtpSinkAsAFastMx) {
  const char* sink = access("/usr/sbin/smtp-sink", X_OK) == 0 ? "/usr/sbin/smtp-sink" : nullptr;
  if (!sink) GTEST_SKIP() << "smtp-sink (Debian package postfix) is not installed";
  // smtp-sink cannot report a kernel-chosen port: ask the kernel for a free one first.
  test::TempDir dir;
  const int port = test::free_port();
  std::vector<std::string> argv{sink};
  if (geteuid() == 0) argv.insert(argv.end(), {"-u", "nobody"});  // smtp-sink refuses to run as root
  argv.insert(argv.end(), {"127.0.0.1:" + std::to_string(port), "100"});
  test::Background sink_proc(argv, dir.file("sink.log"));
  usleep(200000);  // smtp-sink prints nothing when ready; a failed start exits at once
  ASSERT_TRUE(sink_proc.running()) << sink_proc.output();
  Ferry a;
  a.start("a.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[[route]]\ndomain = \"*\"\nhost "
          "= \"[127.0.0.1]:" +
              std::to_string(port) + "\"\n");
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(send_mail(a.port, "s@a.test", {"r" + std::to_string(i) + "@x.test"}, "Subject: s\n\nx\n"),
              "ok");
  for (int i = 0; i < 300; ++i) {
    std::string out = a.proc->output();
    std::size_t n = 0;
    for (auto p = out.find("status=sent"); p != std::string::npos; p = out.find("status=sent", p + 1)) ++n;
    if (n == 20) break;
    usleep(20000);
  }
  std::string out = a.proc->output();
  std::size_t n = 0;
  for (auto p = out.find("status=sent"); p != std::string::npos; p = out.find("status=sent", p + 1)) ++n;
  EXPECT_EQ(n, 20u) << out;
}

}  // namespace
}  // namespace ferry
