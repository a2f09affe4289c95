// Integration: MTA-STS (RFC 8461) with real parts: dnsmasq publishes the MX and the _mta-sts TXT
// record, a Python HTTPS server on loopback serves the policy with a certificate from a test CA
// made here by openssl, and a second `ferry serve` with a certificate for the MX name from the
// same CA is the MX. Enforce with a matching and a non-matching MX, testing mode, a policy
// changed with and without a new id, the cache across a restart, and `ferry sts` show/forget.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "integration/support/MailClient.hpp"
#include "integration/support/StsPolicyServer.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;

// One ferry daemon in its own directory.
struct Ferry {
  test::TempDir dir;
  std::unique_ptr<test::Background> proc;
  int port = 0;
  void start(const std::string& name, const std::string& body) {
    dir.write("ferry.toml", "hostname = \"" + name + "\"\nuser = \"root\"\n[queue]\npath = \"" +
                                dir.file("q") + "\"\nmax_size = \"64MiB\"\n[metrics]\nlisten = \"\"\n" +
                                body);
    proc = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")},
        dir.file("log" + std::to_string(++starts)));
    ASSERT_TRUE(proc->wait_for_output("ready: ")) << proc->output();
    port = port_from_log(proc->output());
  }
  void stop() {
    if (proc) proc->stop(SIGTERM);
    proc.reset();
  }
  test::RunResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, args.front(), "--config", dir.file("ferry.toml")};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return test::run(argv);
  }
  ~Ferry() { stop(); }
  int starts = 0;
};

using test::sts_policy;

class MtaSts : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string d = pki.path();
    ASSERT_TRUE(web.start()) << web.output();
    https_port = web.port();
    mx.start("mx.example.test",
             "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[tls]\n"
             "certificate = \"" +
                 d + "/mx.pem\"\nkey = \"" + d +
                 "/mx.key\"\n"
                 "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n");
  }
  int sh(const std::string& cmd) {
    return test::run({"/bin/sh", "-c", "cd " + pki.path() + " && (" + cmd + ") 2>/dev/null"}).exit_code;
  }

  void set_policy(const std::string& text) { web.set_policy(text); }
  std::unique_ptr<test::DnsServer> dns_with_id(const std::string& id) {
    return std::make_unique<test::DnsServer>(std::vector<std::string>{
        "--mx-host=example.test,mx.example.test,10", "--host-record=mx.example.test,127.0.0.1",
        "--host-record=mta-sts.example.test,127.0.0.1",
        "--txt-record=_mta-sts.example.test,v=STSv1; id=" + id});
  }
  void start_sender(const test::DnsServer& dns, const std::string& extra = "") {
    a.start("a.test",
            extra + "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[delivery]\nport = " +
                std::to_string(mx.port) +
                "\nconnect_timeout = \"2s\"\nidle_timeout = \"100ms\"\n[dns]\nservers = [\"" + dns.address() +
                "\"]\n[retry]\nfirst = \"1h\"\n[mta_sts]\nca_file = \"" + pki.path() +
                "/ca.pem\"\nhttps_port = " + std::to_string(https_port) + "\n");
  }
  // Sends one message to `rcpt` and returns the sender's log line for it.
  std::string deliver(const std::string& rcpt) {
    EXPECT_EQ(send_mail(a.port, "alice@a.test", {rcpt}, "Subject: sts\n\nhi\n"), "ok");
    EXPECT_TRUE(a.proc->wait_for_output("to=<" + rcpt + ">", 20000)) << a.proc->output();
    const std::string log = a.proc->output();
    const auto at = log.find("to=<" + rcpt + ">");
    return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
  }
  test::TempDir pki;
  test::StsPolicyServer web{pki};
  int https_port = 0;
  Ferry mx, a;
};

TEST_F(MtaSts, EnforceDeliversToAMatchingMxOverVerifiedTls) {
  auto dns = dns_with_id("1");
  start_sender(*dns);
  const std::string line = deliver("bob@example.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << a.proc->output();
  EXPECT_NE(line.find("tls_policy=sts-enforce"), std::string::npos) << line;
  EXPECT_TRUE(mx.proc->wait_for_output("proto=ESMTPS")) << mx.proc->output();
  EXPECT_NE(a.proc->output().find("mta-sts: example.test: policy id 1 fetched, mode enforce"),
            std::string::npos);
  auto show = a.cli({"sts", "show", "example.test"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("mode: enforce"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("mx: mx.example.test"), std::string::npos) << show.out;
}

TEST_F(MtaSts, EnforceDefersWhenNoMxMatches) {
  set_policy(sts_policy("enforce", "*.elsewhere.test"));
  auto dns = dns_with_id("1");
  start_sender(*dns);
  const std::string line = deliver("bob@example.test");
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << line;
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("no MX host matches the MTA-STS policy of example.test"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=sts-enforce"), std::string::npos) << line;
  EXPECT_EQ(mx.proc->output().find("nrcpt="), std::string::npos) << mx.proc->output();
  auto list = a.cli({"queue", "list"});
  const auto line_start = list.out.find('\n') + 1;  // after the header line
  const std::string id = list.out.substr(line_start, list.out.find(' ', line_start) - line_start);
  auto show = a.cli({"queue", "show", id});
  EXPECT_NE(show.out.find("tls_policy=sts-enforce"), std::string::npos) << list.out << show.out;
}

// Python's smtplib over STARTTLS to `port`: MAIL with `params`, one RCPT, DATA from stdin.
constexpr const char* kTlsClient = R"(
import smtplib, ssl, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo('client.test')
s.sendmail('alice@a.test', [sys.argv[3]], sys.stdin.read().encode(), mail_options=sys.argv[2].split(',') if sys.argv[2] else [])
print('sent')
)";

// RFC 8689 §4.2.1: an MTA-STS enforce policy validates the next hop, so a REQUIRETLS message goes
// there (with REQUIRETLS on MAIL, as the MX offers it over TLS).
TEST_F(MtaSts, RequireTlsGoesOverAnEnforcedPolicy) {
  auto dns = dns_with_id("1");
  start_sender(*dns,
               "[tls]\ncertificate = \"" + pki.path() + "/mx.pem\"\nkey = \"" + pki.path() + "/mx.key\"\n");
  auto r = test::run({"/usr/bin/env", "python3", "-W", "ignore", "-c", kTlsClient, std::to_string(a.port),
                      "REQUIRETLS", "bob@example.test"},
                     "Subject: secret\r\n\r\nx\r\n", 60);
  ASSERT_NE(r.out.find("sent"), std::string::npos) << r.out << r.err;
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@example.test>", 20000)) << a.proc->output();
  const std::string log = a.proc->output();
  const std::string line = log.substr(log.find("to=<bob@example.test>"));
  EXPECT_NE(line.substr(0, line.find('\n')).find("status=sent"), std::string::npos) << log;
  EXPECT_NE(line.substr(0, line.find('\n')).find("tls_policy=sts-enforce"), std::string::npos) << log;
}

// `TLS-Required: No` (RFC 8689 §4.2.2): the domain's enforce policy that no MX matches does not
// hold the message back; it goes as without a policy.
TEST_F(MtaSts, TlsRequiredNoWaivesAnEnforcedPolicy) {
  set_policy(sts_policy("enforce", "*.elsewhere.test"));
  auto dns = dns_with_id("1");
  start_sender(*dns);
  EXPECT_EQ(send_mail(a.port, "alice@a.test", {"bob@example.test"}, "Subject: r\nTLS-Required: No\n\nhi\n"),
            "ok");
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@example.test>", 20000)) << a.proc->output();
  const std::string log = a.proc->output();
  const std::string line = log.substr(log.find("to=<bob@example.test>"));
  EXPECT_NE(line.substr(0, line.find('\n')).find("status=sent"), std::string::npos) << log;
  EXPECT_NE(line.substr(0, line.find('\n')).find("tls_policy=opportunistic"), std::string::npos) << log;
}

TEST_F(MtaSts, TestingModeDeliversAndReportsTheMismatch) {
  set_policy(sts_policy("testing", "*.elsewhere.test"));
  auto dns = dns_with_id("1");
  start_sender(*dns);
  const std::string line = deliver("bob@example.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << a.proc->output();
  EXPECT_NE(line.find("tls_policy=sts-testing"), std::string::npos) << line;
  EXPECT_NE(a.proc->output().find("mta-sts testing: mx.example.test not in the policy of example.test"),
            std::string::npos)
      << a.proc->output();
}

// Under testing, an MX certificate for another name is delivered to and logged (what enforce would
// refuse); under enforce the same MX gets nothing.
TEST_F(MtaSts, CertificateForAnotherNameTestingLogsEnforceDefers) {
  const std::string d = pki.path();
  mx.stop();
  mx.start("mx.example.test",
           "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[tls]\n"
           "certificate = \"" +
               d + "/web.pem\"\nkey = \"" + d +
               "/web.key\"\n"
               "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n");
  set_policy(sts_policy("testing", "mx.example.test"));
  {
    auto dns = dns_with_id("1");
    start_sender(*dns);
    EXPECT_NE(deliver("one@example.test").find("status=sent"), std::string::npos) << a.proc->output();
    EXPECT_NE(
        a.proc->output().find("mta-sts testing: example.test: the certificate of mx.example.test[127.0.0.1] "
                              "is not valid for it"),
        std::string::npos)
        << a.proc->output();
    a.stop();
  }
  set_policy(sts_policy("enforce", "mx.example.test"));
  auto dns = dns_with_id("2");
  start_sender(*dns);
  const std::string line = deliver("two@example.test");
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << a.proc->output();
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
}

// The cached policy holds while the id stays (a changed file is not fetched), survives a
// restart of the daemon, and is replaced when the TXT id changes.
TEST_F(MtaSts, IdDecidesRefetchAndTheCacheSurvivesRestart) {
  {
    auto dns = dns_with_id("1");
    start_sender(*dns);
    EXPECT_NE(deliver("one@example.test").find("status=sent"), std::string::npos) << a.proc->output();
    set_policy(sts_policy("enforce", "*.elsewhere.test"));  // changed, same id: not fetched
    EXPECT_NE(deliver("two@example.test").find("status=sent"), std::string::npos) << a.proc->output();
    a.stop();
    start_sender(*dns);  // restart: the policy comes from the queue's table
    EXPECT_NE(deliver("three@example.test").find("status=sent"), std::string::npos) << a.proc->output();
    EXPECT_EQ(a.proc->output().find("fetched"), std::string::npos) << a.proc->output();
    a.stop();
  }
  auto dns = dns_with_id("2");
  start_sender(*dns);
  const std::string line = deliver("four@example.test");
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << a.proc->output();
  EXPECT_NE(a.proc->output().find("policy id 2 fetched"), std::string::npos) << a.proc->output();
}

TEST_F(MtaSts, ForgetRemovesTheCachedPolicy) {
  auto dns = dns_with_id("1");
  start_sender(*dns);
  EXPECT_NE(deliver("bob@example.test").find("status=sent"), std::string::npos) << a.proc->output();
  EXPECT_EQ(a.cli({"sts", "show", "example.test"}).exit_code, 0);
  auto forget = a.cli({"sts", "forget", "example.test"});
  EXPECT_EQ(forget.exit_code, 0) << forget.err;
  EXPECT_EQ(a.cli({"sts", "show", "example.test"}).exit_code, 1);
  EXPECT_EQ(a.cli({"sts", "forget", "example.test"}).exit_code, 1);
  auto refresh = a.cli({"sts", "refresh", "example.test"});
  EXPECT_EQ(refresh.exit_code, 0) << refresh.out << refresh.err;
  EXPECT_NE(refresh.out.find("mode: enforce"), std::string::npos) << refresh.out;
}

// RFC 8461 §3.3: a failed fetch keeps the cached policy (it still applies); with nothing cached,
// the domain is treated as having no policy and mail goes out as before.
TEST_F(MtaSts, FailedFetchKeepsTheCacheAndWithoutOneMailFlows) {
  auto dns = dns_with_id("1");
  start_sender(*dns);
  EXPECT_NE(deliver("one@example.test").find("tls_policy=sts-enforce"), std::string::npos)
      << a.proc->output();
  ASSERT_EQ(sh("rm www/.well-known/mta-sts.txt"), 0);
  auto refresh = a.cli({"sts", "refresh", "example.test", "--json"});
  EXPECT_EQ(refresh.exit_code, 75) << refresh.out << refresh.err;
  EXPECT_NE(refresh.err.find("HTTP status 404"), std::string::npos) << refresh.err;
  EXPECT_NE(refresh.out.find("\"failures\":1"), std::string::npos) << refresh.out;
  EXPECT_NE(deliver("two@example.test").find("tls_policy=sts-enforce"), std::string::npos)
      << a.proc->output();
  ASSERT_EQ(a.cli({"sts", "forget", "example.test"}).exit_code, 0);
  const std::string line = deliver("three@example.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << a.proc->output();
  EXPECT_NE(line.find("tls_policy=opportunistic"), std::string::npos) << line;
}

// RFC 8461 §3.3: no redirect is followed, the media type must be text/plain, and the body is
// bounded (64 KiB): each is a failed fetch, and with nothing cached there is no policy.
TEST_F(MtaSts, RedirectsWrongTypeAndOversizedPoliciesAreRefused) {
  auto dns = dns_with_id("1");
  start_sender(*dns);
  const std::pair<const char*, const char*> cases[] = {
      {"redirect", "HTTP status 301"}, {"html", "not text/plain"}, {"big", "larger than 65536 bytes"}};
  for (const auto& [how, why] : cases) {
    pki.write("www/misbehave", how);
    auto r = a.cli({"sts", "refresh", "example.test"});
    EXPECT_EQ(r.exit_code, 75) << how << ": " << r.out << r.err;
    EXPECT_NE(r.out.find(why), std::string::npos) << how << ": " << r.out;
    EXPECT_EQ(a.cli({"sts", "show", "example.test"}).exit_code, 1) << how;
  }
}

// `ferry probe` explains the TXT record, the policy and why each MX host is accepted or refused.
TEST_F(MtaSts, ProbeExplainsThePolicyAndEachMx) {
  auto dns = dns_with_id("7");
  start_sender(*dns);
  auto ok = a.cli({"probe", "bob@example.test"});
  EXPECT_NE(ok.out.find("MTA-STS: _mta-sts.example.test: TXT id=7"), std::string::npos) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("policy (fetched): mode enforce"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("mx.example.test: accepted"), std::string::npos) << ok.out;
  set_policy(sts_policy("enforce", "mail.elsewhere.test"));
  auto refused = a.cli({"probe", "bob@example.test"});
  EXPECT_NE(refused.out.find("mx.example.test: refused (not in the policy)"), std::string::npos)
      << refused.out;
}

}  // namespace
}  // namespace ferry
