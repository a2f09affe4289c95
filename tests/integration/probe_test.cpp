// Integration: `ferry probe` end to end — the real binary against dnsmasq and scripted fake MX
// servers (accepted, rejected, greylisted, null MX, NXDOMAIN, failover), a real `ferry serve` for
// STARTTLS with its self-signed certificate, and `--json` parsed by Python.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using test::port_from_log;

bool has(const std::string& out, const std::string& needle) { return out.find(needle) != std::string::npos; }

// Runs a Python expression over the JSON on stdin (bound to `j`); returns what it prints.
std::string py_json(const std::string& json, const std::string& expr) {
  auto r = test::run({"/usr/bin/env", "python3", "-c",
                      "import json,sys\nj=json.loads(sys.stdin.read())\nprint(" + expr + ")"},
                     json, 30);
  std::string out = r.exit_code == 0 ? r.out : "python error: " + r.err;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class probeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::open_mx_pair(mx1_, "127.0.0.2", mx2_, "127.0.0.3"));
    dns_ = std::make_unique<test::DnsServer>(test::loopback_mx_zone());
    dir_.write("ferry.toml", "hostname = \"probe.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                                 dir_.file("q") + "\"\n[delivery]\nport = " + std::to_string(mx1_->port()) +
                                 "\nconnect_timeout = \"2s\"\n[dns]\nservers = [\"" + dns_->address() +
                                 "\"]\n");
  }

  test::RunResult probe(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "probe", "--config", dir_.file("ferry.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, {}, 60);
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx1_, mx2_;
  std::unique_ptr<test::DnsServer> dns_;
};

TEST_F(probeCli, AcceptedRecipientShowsDnsTranscriptAndCapabilitiesWithoutSending) {
  auto r = probe({"bob@example.test"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "DNS MX example.test: ok")) << r.out;
  EXPECT_TRUE(has(r.out, "10 mx1.example.test  (TTL 60 s)")) << r.out;
  EXPECT_TRUE(has(r.out, "DNS A/AAAA mx1.example.test: ok")) << r.out;
  EXPECT_TRUE(has(r.out, "127.0.0.2  (TTL 60 s)")) << r.out;
  EXPECT_TRUE(has(r.out, "Delivery order: mx1.example.test[127.0.0.2]")) << r.out;
  EXPECT_TRUE(has(r.out, "S: 220 fake.test ESMTP")) << r.out;
  EXPECT_TRUE(has(r.out, "C: EHLO probe.test")) << r.out;
  EXPECT_TRUE(has(r.out, "PIPELINING")) << r.out;
  EXPECT_TRUE(has(r.out, "commands may be sent in batches")) << r.out;
  EXPECT_TRUE(has(r.out, "largest message accepted: 100000000 bytes")) << r.out;
  EXPECT_TRUE(has(r.out, "STARTTLS not offered")) << r.out;
  EXPECT_TRUE(has(r.out, "C: MAIL FROM:<>")) << r.out;
  EXPECT_TRUE(has(r.out, "C: RCPT TO:<bob@example.test>")) << r.out;
  EXPECT_TRUE(has(r.out, "S: 250 2.1.5 Ok")) << r.out;
  EXPECT_TRUE(has(r.out, "2.1.5 Success, Addressing Status: Destination address valid")) << r.out;
  EXPECT_TRUE(has(r.out, "C: QUIT")) << r.out;
  EXPECT_FALSE(has(r.out, "C: DATA")) << r.out;
  EXPECT_TRUE(has(r.out, "Result: ACCEPTED (exit 0)")) << r.out;
  EXPECT_EQ(mx1_->messages().size(), 0u);
}

TEST_F(probeCli, RejectedAtRcptIsExplainedAndExitsOne) {
  mx1_->on_rcpt = [](const std::string&, int) {
    return std::string("550 5.1.1 <nobody@example.test>: User unknown");
  };
  auto r = probe({"nobody@example.test", "--from", "alice@sender.test"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "C: MAIL FROM:<alice@sender.test>")) << r.out;
  EXPECT_TRUE(has(r.out, "S: 550 5.1.1 <nobody@example.test>: User unknown")) << r.out;
  EXPECT_TRUE(has(r.out, "Permanent Negative Completion")) << r.out;
  EXPECT_TRUE(has(r.out, "5.1.1 Permanent Failure, Addressing Status: Bad destination mailbox address"))
      << r.out;
  EXPECT_TRUE(has(r.out, "category unknown_user")) << r.out;
  EXPECT_TRUE(has(r.out, "Result: REJECTED (exit 1): RCPT TO refused")) << r.out;
}

TEST_F(probeCli, GreylistedIsATemporaryFailure) {
  mx1_->on_rcpt = [](const std::string&, int) {
    return std::string("451 4.7.1 Greylisting in action, please come back in 00:05:00");
  };
  auto r = probe({"grey@example.test"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "category greylisted")) << r.out;
  EXPECT_TRUE(has(r.out, "Result: TEMPORARY FAILURE (exit 2)")) << r.out;
}

TEST_F(probeCli, NullMxIsAPermanentRefusal) {
  auto r = probe({"x@nullmx.test"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "null MX (RFC 7505)")) << r.out;
  EXPECT_TRUE(has(r.out, "category: bad_domain")) << r.out;
  EXPECT_FALSE(has(r.out, "Connecting to")) << r.out;
}

TEST_F(probeCli, NxDomainCannotBeResolved) {
  auto r = probe({"x@nope.test"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "DNS MX nope.test: NXDOMAIN")) << r.out;
  EXPECT_TRUE(has(r.out, "does not exist (NXDOMAIN)")) << r.out;
  EXPECT_TRUE(has(r.out, "category: bad_domain")) << r.out;
}

TEST_F(probeCli, ImplicitMxUsesTheDomainsAddress) {
  auto r = probe({"x@implicit.test"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "implicit MX")) << r.out;
  EXPECT_TRUE(has(r.out, "Delivery order: implicit.test[127.0.0.2]")) << r.out;
}

TEST_F(probeCli, RefusedFirstMxThenAcceptedBySecond) {
  auto r = probe({"x@failover.test"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto order =
      r.out.find("Delivery order: dead.failover.test[127.0.0.9], mx2.failover.test[127.0.0.3]");
  EXPECT_NE(order, std::string::npos) << r.out;
  const auto refused = r.out.find("connect failed: Connection refused");
  const auto second = r.out.find("Connecting to mx2.failover.test[127.0.0.3]");
  EXPECT_NE(refused, std::string::npos) << r.out;
  EXPECT_NE(second, std::string::npos) << r.out;
  EXPECT_LT(refused, second);
  EXPECT_TRUE(has(r.out, "trying the next host")) << r.out;
  EXPECT_EQ(mx2_->connections(), 1);
}

TEST_F(probeCli, UnreachableHostExitsThree) {
  auto r = probe({"x@example.test", "--host", "127.0.0.9", "--port", std::to_string(mx1_->port())});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "category: service_unavailable")) << r.out;
}

TEST_F(probeCli, SendGoesThroughData) {
  dir_.write("msg.eml", "Subject: probe\n\n.dot line\nhello\n");
  auto r = probe({"bob@example.test", "--send", dir_.file("msg.eml")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "C: DATA")) << r.out;
  EXPECT_TRUE(has(r.out, "S: 250 2.0.0 Ok: queued")) << r.out;
  ASSERT_EQ(mx1_->messages().size(), 1u);
  EXPECT_EQ(mx1_->messages()[0].data, "Subject: probe\r\n\r\n.dot line\r\nhello\r\n");
  auto t = probe({"carol@example.test", "--send-test", "--json"});
  EXPECT_EQ(t.exit_code, 0) << t.out;
  EXPECT_EQ(py_json(t.out, "j['sent_data']"), "True");
  ASSERT_EQ(mx1_->messages().size(), 2u);
  EXPECT_TRUE(has(mx1_->messages()[1].data, "Subject: ferry probe test message")) << mx1_->messages()[1].data;
}

// Sessions that end without a deciding reply: a server that closes at once, and a STARTTLS that
// fails after the 220. Each is a temporary failure that says where the dialogue stopped.
TEST_F(probeCli, LostConnectionAndFailedStartTlsAreTemporaryFailures) {
  const std::string port = std::to_string(mx1_->port());
  mx1_->close_on_connect = 1;
  auto lost = probe({"bob@example.test", "--host", "127.0.0.2", "--port", port});
  EXPECT_EQ(lost.exit_code, 2) << lost.out << lost.err;
  EXPECT_TRUE(has(lost.out, "connection failed during the greeting: connection closed by the server"))
      << lost.out;
  EXPECT_TRUE(has(lost.out, "Result: TEMPORARY FAILURE (exit 2)")) << lost.out;

  mx1_->close_on_connect = 0;
  mx1_->ehlo_extensions = "STARTTLS\r\n250 PIPELINING";
  mx1_->broken_starttls = true;
  auto tls = probe({"bob@example.test", "--host", "127.0.0.2", "--port", port});
  EXPECT_EQ(tls.exit_code, 2) << tls.out << tls.err;
  EXPECT_TRUE(has(tls.out, "C: STARTTLS")) << tls.out;
  EXPECT_TRUE(has(tls.out, "TLS handshake failed")) << tls.out;
  EXPECT_TRUE(has(tls.out, "Result: TEMPORARY FAILURE (exit 2): STARTTLS handshake failed")) << tls.out;
  EXPECT_TRUE(has(tls.out, "category: tls_required")) << tls.out;
  EXPECT_FALSE(has(tls.out, "C: MAIL FROM")) << tls.out;
}

TEST_F(probeCli, JsonOutputParses) {
  auto ok = probe({"bob@example.test", "--json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(py_json(ok.out, "j['result'], j['exit_code'], j['mx_kind']"), "accepted 0 mx");
  EXPECT_EQ(
      py_json(ok.out,
              "j['dns'][0]['type'], j['dns'][0]['records'][0]['value'], j['dns'][0]['records'][0]['ttl']"),
      "MX 10 mx1.example.test 60");
  EXPECT_EQ(py_json(ok.out, "[r['command'] for r in j['connections'][0]['replies']]"),
            "['greeting', 'EHLO', 'MAIL FROM', 'RCPT TO', 'QUIT']");
  EXPECT_EQ(py_json(ok.out, "all('category' in r for r in j['connections'][0]['replies'])"), "True");
  EXPECT_EQ(
      py_json(
          ok.out,
          "j['connections'][0]['transcript'][0]['dir'], j['connections'][0]['capabilities'][0]['keyword']"),
      "S PIPELINING");

  mx1_->on_rcpt = [](const std::string&, int) {
    return std::string(
        "550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org");
  };
  auto bad = probe({"bob@example.test", "--json"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_EQ(py_json(bad.out,
                    "j['result'], j['category'], j['detail'], j['final_reply']['category'], "
                    "j['final_reply']['status']"),
            "rejected blocklisted_ip Spamhaus blocklisted_ip 5.7.1");
  EXPECT_EQ(py_json(bad.out, "j['connections'][0]['replies'][-2]['status_meaning']"),
            "5.7.1 Permanent Failure, Security or Policy Status: Delivery not authorized, message refused");

  auto nx = probe({"x@nope.test", "--json"});
  EXPECT_EQ(nx.exit_code, 3);
  EXPECT_EQ(py_json(nx.out, "j['result'], j['category'], j['connections']"), "unreachable bad_domain []");
}

TEST_F(probeCli, UsageErrors) {
  EXPECT_EQ(probe({}).exit_code, 64);
  EXPECT_EQ(probe({"not-an-address"}).exit_code, 64);
  EXPECT_EQ(probe({"a@b.test", "--tls=sometimes"}).exit_code, 64);
  EXPECT_EQ(probe({"a@b.test", "--bogus"}).exit_code, 64);
}

// Each usage error says what is wrong, on stderr, with exit 64; help goes to stdout with 0.
TEST_F(probeCli, UsageErrorsSayWhatIsWrong) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"a@b.test", "--host"}, "ferry: probe: --host needs a value\n"},
      {{"a@b.test", "--port"}, "ferry: probe: --port needs a value\n"},
      {{"a@b.test", "--port=0"}, "ferry: probe: bad number '0'\n"},
      {{"a@b.test", "--timeout", "65536"}, "ferry: probe: bad number '65536'\n"},
      {{"a@b.test", "--port=25x"}, "ferry: probe: bad number '25x'\n"},
      {{"a@b.test", "--tls", "sometimes"},
       "ferry: probe: --tls must be none, opportunistic, verify or implicit\n"},
      {{"a@b.test", "--auth=:secret"}, "ferry: probe: --auth wants USER:PASS\n"},
      {{"a@b.test", "--auth", "nocolon"}, "ferry: probe: --auth wants USER:PASS\n"},
      {{"a@b.test", "--send", dir_.file("missing.eml")},
       "ferry: probe: cannot read " + dir_.file("missing.eml") + "\n"},
      {{"a@b.test", "b@b.test"}, "ferry: probe: exactly one recipient address is needed\n"},
  };
  for (const auto& [args, message] : cases) {
    auto r = probe(args);
    EXPECT_EQ(r.exit_code, 64) << args.back();
    EXPECT_EQ(r.err.substr(0, message.size()), message) << args.back();
  }
  auto help = probe({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: ferry probe"), std::string::npos) << help.out;
}

// --config routes exactly as the daemon: a route whose password file cannot be read is a
// configuration error (78), as `ferry serve` refuses it, not a probe with an empty password.
TEST_F(probeCli, RouteWithUnreadablePasswordFileIsAConfigError) {
  dir_.write("route.toml", "[queue]\npath = \"" + dir_.file("q") +
                               "\"\n[[route]]\ndomain = \"*\"\n"
                               "host = \"[127.0.0.2]\"\nauth_user = \"u\"\nauth_password_file = \"" +
                               dir_.file("missing") + "\"\n");
  auto r = test::run({FERRY_BINARY, "probe", "--config", dir_.file("route.toml"), "a@b.test"}, {}, 30);
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_NE(r.err.find("auth_password_file " + dir_.file("missing") + " cannot be read"), std::string::npos)
      << r.err;
}

// A real Ferry as the target: it offers STARTTLS with a self-signed certificate.
TEST(probeTls, StartTlsWithSelfSignedCertificateIsShownAsNotVerified) {
  test::TempDir dir;
  dir.write("ferry.toml",
            "hostname = \"tls.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                "\"\nmax_size = \"64MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  ASSERT_TRUE(serve.wait_for_output("ready: ")) << serve.output();
  const int port = port_from_log(serve.output());
  ASSERT_GT(port, 0);
  dir.write("probe.toml", "hostname = \"prober.test\"\n[queue]\npath = \"" + dir.file("pq") + "\"\n");

  auto r = test::run({FERRY_BINARY, "probe", "--config", dir.file("probe.toml"), "--host", "127.0.0.1",
                      "--port", std::to_string(port), "bob@far.test"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "C: STARTTLS")) << r.out;
  EXPECT_TRUE(has(r.out, "TLS: TLSv1.")) << r.out;
  EXPECT_TRUE(has(r.out, "subject:  CN=tls.test")) << r.out;
  EXPECT_TRUE(has(r.out, "SANs:     DNS:tls.test")) << r.out;
  EXPECT_TRUE(has(r.out, "against the system CAs: NO (")) << r.out;
  // the EHLO after the handshake no longer offers STARTTLS and the dialogue goes on encrypted
  EXPECT_TRUE(has(r.out, "C: RCPT TO:<bob@far.test>")) << r.out;

  auto j = test::run({FERRY_BINARY, "probe", "--config", dir.file("probe.toml"), "--host", "127.0.0.1",
                      "--port", std::to_string(port), "--json", "bob@far.test"});
  EXPECT_EQ(
      py_json(j.out, "j['connections'][0]['tls']['established'], j['connections'][0]['tls']['verified']"),
      "True False");
  EXPECT_EQ(py_json(j.out, "j['connections'][0]['tls']['subject_alt_names']"), "['DNS:tls.test']");

  // --tls=verify refuses to go on with a certificate that does not verify: temporary failure.
  auto v = test::run({FERRY_BINARY, "probe", "--config", dir.file("probe.toml"), "--host", "127.0.0.1",
                      "--port", std::to_string(port), "--tls=verify", "bob@far.test"});
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_TRUE(has(v.out, "TLS verification failed")) << v.out;
  EXPECT_TRUE(has(v.out, "category: tls_required")) << v.out;
  EXPECT_FALSE(has(v.out, "C: MAIL FROM")) << v.out;

  // --tls=none never starts TLS
  auto n = test::run({FERRY_BINARY, "probe", "--config", dir.file("probe.toml"), "--host", "127.0.0.1",
                      "--port", std::to_string(port), "--tls=none", "bob@far.test"});
  EXPECT_EQ(n.exit_code, 0) << n.out;
  EXPECT_FALSE(has(n.out, "C: STARTTLS")) << n.out;
  serve.stop(SIGTERM);
}

}  // namespace
}  // namespace ferry
