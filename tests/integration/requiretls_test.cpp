// Integration: REQUIRETLS (RFC 8689) and LIMITS (RFC 9422) with real `ferry serve` daemons:
// REQUIRETLS is offered and accepted over STARTTLS only, a REQUIRETLS message goes on over a
// verified route to a server that offers REQUIRETLS and fails with 5.7.30 where the policy
// validates nothing; `TLS-Required: No` mail is delivered as usual; LIMITS is advertised, and a
// server's RCPTMAX and MAILMAX split one message over transactions and connections.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"
#include "support/TestCa.hpp"

namespace ferry {
namespace {

using test::port_from_log;
using test::send_mail;

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
  ~Ferry() {
    if (proc) proc->stop(SIGTERM);
  }
};

// Python's smtplib as the client: EHLO, optional STARTTLS (no certificate check) and EHLO again,
// then MAIL with the given parameters, RCPT, DATA. Prints the EHLO keywords, then each reply.
constexpr const char* kClient = R"(
import smtplib, ssl, sys
port, tls, params, rcpt = int(sys.argv[1]), sys.argv[2] == 'tls', sys.argv[3], sys.argv[4]
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.test')
if tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo('client.test')
print('EHLO ' + ' '.join(sorted(s.esmtp_features)))
print('LIMITS ' + s.esmtp_features.get('limits', ''))
code, text = s.mail('alice@a.test', params.split(',') if params else [])
print('MAIL %d %s' % (code, text.decode()))
if code == 250:
    code, text = s.rcpt(rcpt)
    print('RCPT %d %s' % (code, text.decode()))
    code, text = s.data(sys.stdin.read().encode())
    print('DATA %d %s' % (code, text.decode()))
s.quit()
)";

std::string client(int port, bool tls, const std::string& params, const std::string& rcpt,
                   const std::string& message) {
  auto r = test::run({"/usr/bin/env", "python3", "-W", "ignore", "-c", kClient, std::to_string(port),
                      tls ? "tls" : "plain", params, rcpt},
                     message, 60);
  return r.out + r.err;
}

// A private CA and a certificate for smarthost.test issued by it; `b` presents it and offers
// REQUIRETLS once TLS is on. `a` presents the same certificate to its own clients.
class RequireTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string d = b.dir.path();
    ASSERT_TRUE(test::make_test_ca(d, "FerryPrivateCA"));
    ASSERT_TRUE(test::make_host_certificate(d, "smarthost.test", "host"));
    ca = d + "/ca.pem";
    tls = "[tls]\ncertificate = \"" + d + "/host.pem\"\nkey = \"" + d + "/host.key\"\n";
    b.start("smarthost.test",
            "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n" + tls +
                "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n");
  }
  // `a` relays everything to b under the given route TLS setting.
  void start_a(const std::string& route_tls, int port = 0) {
    a.start("a.test", "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n" + tls +
                          "[retry]\nfirst = \"1h\"\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
                          std::to_string(port ? port : b.port) + "\"\ntls = \"" + route_tls +
                          "\"\ntls_name = \"smarthost.test\"\ntls_ca_file = \"" + ca + "\"\n");
  }
  Ferry b, a;
  std::string ca, tls;
};

// RFC 8689 §2: not offered and refused in plaintext; offered and accepted over STARTTLS. RFC 9422:
// LIMITS RCPTMAX is the configured max_recipients, with or without TLS.
TEST_F(RequireTlsTest, OfferedAndAcceptedOnlyOverTls) {
  start_a("verify", 9);  // nothing answers there: the message stays queued to be looked at
  const std::string plain = client(a.port, false, "REQUIRETLS", "bob@far.test", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(plain.find("requiretls"), std::string::npos) << plain;
  EXPECT_NE(plain.find("LIMITS RCPTMAX=1000"), std::string::npos) << plain;
  EXPECT_NE(plain.find("MAIL 530 5.7.10"), std::string::npos) << plain;
  const std::string secured = client(a.port, true, "REQUIRETLS", "bob@far.test", "Subject: x\r\n\r\nx\r\n");
  EXPECT_NE(secured.find(" requiretls"), std::string::npos) << secured;
  EXPECT_NE(secured.find("LIMITS RCPTMAX=1000"), std::string::npos) << secured;
  EXPECT_NE(secured.find("DATA 250 2.0.0 Ok: queued as"), std::string::npos) << secured;
  // The flag is kept with the message and shown by `ferry queue show`.
  const auto at = secured.find("queued as ");
  ASSERT_NE(at, std::string::npos);
  std::string id = secured.substr(at + 10);
  id = id.substr(0, id.find_first_of("\r\n"));
  auto show = test::run({FERRY_BINARY, "queue", "--config", a.dir.file("ferry.toml"), "show", id});
  EXPECT_NE(show.out.find("REQUIRETLS:  yes"), std::string::npos) << show.out << show.err;
}

// Over a verified route to a server that offers REQUIRETLS, the message goes with REQUIRETLS on
// MAIL: b stores the flag, so b itself refuses to pass it on over its unvalidated route (5.7.30,
// without connecting), naming the condition.
TEST_F(RequireTlsTest, DeliveredOverVerifiedTlsAndTheFlagTravels) {
  start_a("verify");
  const std::string out = client(a.port, true, "REQUIRETLS", "bob@far.test", "Subject: secret\r\n\r\nx\r\n");
  ASSERT_NE(out.find("DATA 250"), std::string::npos) << out;
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 20000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=sent"), std::string::npos) << a.proc->output();
  ASSERT_TRUE(b.proc->wait_for_output("to=<bob@far.test>", 20000)) << b.proc->output();
  EXPECT_NE(b.proc->output().find("dsn=5.7.30"), std::string::npos) << b.proc->output();
  EXPECT_NE(b.proc->output().find("REQUIRETLS support required"), std::string::npos) << b.proc->output();
}

// A route that does not verify the certificate cannot carry REQUIRETLS: 5.7.30 at once, nothing
// reaches b, and the sender gets a report.
TEST_F(RequireTlsTest, RefusedWithoutValidatedTls) {
  start_a("opportunistic");
  const std::string out = client(a.port, true, "REQUIRETLS", "bob@far.test", "Subject: secret\r\n\r\nx\r\n");
  ASSERT_NE(out.find("DATA 250"), std::string::npos) << out;
  ASSERT_TRUE(a.proc->wait_for_output("to=<bob@far.test>", 20000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("dsn=5.7.30"), std::string::npos) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=bounced"), std::string::npos) << a.proc->output();
  EXPECT_NE(a.proc->output().find("does not validate the server"), std::string::npos) << a.proc->output();
  EXPECT_TRUE(a.proc->wait_for_output("failure report for", 20000)) << a.proc->output();
  // b may get the report (it relays everything), never the message itself.
  EXPECT_EQ(b.proc->output().find("from=<alice@a.test>"), std::string::npos) << b.proc->output();
}

// `TLS-Required: No` without REQUIRETLS: delivered as any other message; with REQUIRETLS on MAIL
// the field is ignored (RFC 8689 §3) and the REQUIRETLS rule still applies.
TEST_F(RequireTlsTest, TlsRequiredNoIsDeliveredAndDoesNotOverrideRequireTls) {
  start_a("opportunistic");
  const std::string msg = "Subject: report\r\nTLS-Required: No\r\n\r\nx\r\n";
  ASSERT_NE(client(a.port, true, "", "waived@far.test", msg).find("DATA 250"), std::string::npos);
  ASSERT_TRUE(a.proc->wait_for_output("to=<waived@far.test>", 20000)) << a.proc->output();
  EXPECT_NE(a.proc->output().find("status=sent"), std::string::npos) << a.proc->output();
  ASSERT_NE(client(a.port, true, "REQUIRETLS", "both@far.test", msg).find("DATA 250"), std::string::npos);
  ASSERT_TRUE(a.proc->wait_for_output("to=<both@far.test>", 20000)) << a.proc->output();
  const std::string log = a.proc->output();
  const std::string line = log.substr(log.find("to=<both@far.test>"));
  EXPECT_NE(line.find("dsn=5.7.30"), std::string::npos) << log;
}

// RFC 9422 §5: a server announcing RCPTMAX=2 and MAILMAX=1 gets five recipients as three
// transactions, each on its own connection.
TEST(Limits, RcptmaxAndMailmaxSplitTransactionsAndConnections) {
  test::FakeMx mx("127.0.0.1");
  mx.ehlo_extensions = "PIPELINING\r\n250-8BITMIME\r\n250 LIMITS RCPTMAX=2 MAILMAX=1";
  Ferry f;
  f.start("ferry.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[retry]\nfirst = "
          "\"1h\"\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
              std::to_string(mx.port()) + "\"\n");
  ASSERT_EQ(send_mail(f.port, "a@sender.test",
                      {"r1@far.test", "r2@far.test", "r3@far.test", "r4@far.test", "r5@far.test"},
                      "Subject: many\n\nx\n"),
            "ok");
  ASSERT_TRUE(mx.wait_messages(3)) << f.proc->output();
  ASSERT_TRUE(f.proc->wait_for_output("to=<r5@far.test>", 20000)) << f.proc->output();
  const auto got = mx.messages();
  ASSERT_EQ(got.size(), 3u);
  std::size_t total = 0;
  for (const auto& m : got) {
    EXPECT_LE(m.rcpt_to.size(), 2u);
    total += m.rcpt_to.size();
  }
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(mx.connections(), 3);
  EXPECT_EQ(f.proc->output().find("status=deferred"), std::string::npos) << f.proc->output();
}

// RFC 9422 §5: MAILMAX=1 means a pooled connection is not reused for the next message: each
// message gets its own connection, and nothing is deferred.
TEST(Limits, MailmaxStopsConnectionReuse) {
  test::FakeMx mx("127.0.0.1");
  mx.ehlo_extensions = "PIPELINING\r\n250-8BITMIME\r\n250 LIMITS MAILMAX=1";
  Ferry f;
  f.start("ferry.test",
          "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[delivery]\n"
          "idle_timeout = \"30s\"\n[retry]\nfirst = \"1h\"\n[[route]]\ndomain = \"*\"\nhost = "
          "\"[127.0.0.1]:" +
              std::to_string(mx.port()) + "\"\n");
  ASSERT_EQ(send_mail(f.port, "a@sender.test", {"one@far.test"}, "Subject: one\n\nx\n"), "ok");
  ASSERT_TRUE(mx.wait_messages(1)) << f.proc->output();
  ASSERT_TRUE(f.proc->wait_for_output("to=<one@far.test>", 20000)) << f.proc->output();
  ASSERT_EQ(send_mail(f.port, "a@sender.test", {"two@far.test"}, "Subject: two\n\nx\n"), "ok");
  ASSERT_TRUE(mx.wait_messages(2)) << f.proc->output();
  ASSERT_TRUE(f.proc->wait_for_output("to=<two@far.test>", 20000)) << f.proc->output();
  EXPECT_EQ(mx.connections(), 2);
  EXPECT_EQ(f.proc->output().find("status=deferred"), std::string::npos) << f.proc->output();
}

}  // namespace
}  // namespace ferry
