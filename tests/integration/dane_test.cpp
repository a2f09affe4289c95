// Integration: DANE for SMTP (RFC 7672) with real parts: a signed zone served by nsd behind
// unbound (validating), a `ferry serve` MX with a certificate from a private CA, and the sending
// `ferry serve` asking unbound. Cases: DANE-EE and DANE-TA matches are delivered with
// tls_policy=dane; a TLSA mismatch, a bogus TLSA signature and a SERVFAIL for TLSA in the signed
// zone are deferred 4.7.5; a SERVFAIL for TLSA in an unsigned zone and a signed host without
// TLSA are delivered under the ordinary (opportunistic) policy.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/SignedDns.hpp"

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
    ASSERT_TRUE(proc->wait_for_output("ready: ", 20000)) << proc->output();
    port = port_from_log(proc->output());
  }
  ~Ferry() {
    if (proc) proc->stop(SIGTERM);
  }
};

std::string sh(const std::string& cmd) {
  auto r = test::run({"/bin/sh", "-c", cmd});
  EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

// The log line of `rcpt`'s delivery attempt.
std::string line_of(const std::string& log, const std::string& rcpt) {
  const auto at = log.find("to=<" + rcpt + ">");
  if (at == std::string::npos) return {};
  const auto start = log.rfind('\n', at);
  return log.substr(start == std::string::npos ? 0 : start + 1, log.find('\n', at) - (start + 1));
}

// The queue id at the start of a log line ("<id>: to=<...>").
std::string queue_id_of(const std::string& line) {
  const auto at = line.find(": to=<");
  if (at == std::string::npos) return {};
  const auto start = line.rfind(' ', at);
  return line.substr(start == std::string::npos ? 0 : start + 1,
                     at - (start == std::string::npos ? 0 : start + 1));
}

class DaneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mx_ = new Ferry;
    const std::string d = mx_->dir.path();
    // A private CA and the MX's certificate (chain: host, CA) for the DANE-TA host name.
    sh("cd " + d +
       " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
       "-days 2 -subj /CN=DaneTestCA 2>/dev/null && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
       "-nodes -keyout host.key -out host.csr -subj /CN=ta.dane.test 2>/dev/null && printf "
       "'subjectAltName=DNS:ta.dane.test\\n' > ext && openssl x509 -req -in host.csr -CA ca.pem -CAkey "
       "ca.key "
       "-CAcreateserial -out leaf.pem -days 2 -extfile ext 2>/dev/null && cat leaf.pem ca.pem > host.pem");
    mx_->start("mx.dane.test",
               "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[tls]\n"
               "certificate = \"" +
                   d + "/host.pem\"\nkey = \"" + d +
                   "/host.key\"\n"
                   "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n");
    const std::string spki =
        sh("cd " + d +
           " && openssl x509 -in leaf.pem -noout -pubkey | openssl pkey -pubin -outform DER "
           "| openssl dgst -sha256 -r | cut -d' ' -f1");
    const std::string ca = sh("cd " + d +
                              " && openssl x509 -in ca.pem -outform DER | openssl dgst -sha256 -r | "
                              "cut -d' ' -f1");
    const std::string tcp = "_" + std::to_string(mx_->port) + "._tcp.";
    test::SignedDnsZones z;
    z.signed_records = "ee IN A 127.0.0.1\n" + tcp + "ee IN TLSA 3 1 1 " + spki + "\n" +  // DANE-EE
                       "ta IN A 127.0.0.1\n" + tcp + "ta IN TLSA 2 0 1 " + ca + "\n" +    // DANE-TA
                       "mismatch IN A 127.0.0.1\n" + tcp + "mismatch IN TLSA 3 1 1 " + std::string(64, 'e') +
                       "\n" + "bogus IN A 127.0.0.1\n" + tcp + "bogus IN TLSA 3 1 1 " + spki + "\n" +
                       "none IN A 127.0.0.1\n" + "down IN A 127.0.0.1\n_tcp.down IN NS ns.dane.test.\n" +
                       "viamx IN MX 10 ee.dane.test.\n" +
                       // DANE-TA for a host the certificate does not name (RFC 7672 §3.2.2).
                       "othername IN A 127.0.0.1\n" + tcp + "othername IN TLSA 2 0 1 " + ca + "\n" +
                       // Only a PKIX-EE record: validated but unusable, so TLS without authentication.
                       "pkix IN A 127.0.0.1\n" + tcp + "pkix IN TLSA 1 1 1 " + spki + "\n" +
                       // The TLSA name is a CNAME to ta's: "ta.dane.test" becomes a reference name.
                       "alias IN A 127.0.0.1\n" + tcp + "alias IN CNAME " + tcp + "ta\n";
    z.plain_records =
        "flaky IN A 127.0.0.1\n_tcp.flaky IN NS ns.plain.test.\n"
        "insecure IN MX 10 ee.dane.test.\n";
    // The bogus host's TLSA data changed after signing: its RRSIG no longer verifies.
    z.corrupt = {
        {"bogus.dane.test.\\(.*\\)TLSA\\(.*\\)" + spki.substr(0, 8), "bogus.dane.test.\\1TLSA\\2ffffffff"}};
    z.servfail_zones = {"_tcp.down.dane.test", "_tcp.flaky.plain.test"};
    dns_ = new test::SignedDns(z);
    sender_ = new Ferry;
    sender_->start("sender.test",
                   "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n[delivery]\n"
                   "port = " +
                       std::to_string(mx_->port) +
                       "\nconnect_timeout = \"5s\"\nidle_timeout = \"100ms\"\n[dns]\nservers = [\"" +
                       dns_->address() + "\"]\n[retry]\nfirst = \"1h\"\n");
  }
  static void TearDownTestSuite() {
    delete sender_;
    delete dns_;
    delete mx_;
  }

  // Sends one message to `rcpt` and returns its delivery log line.
  static std::string deliver(const std::string& rcpt) {
    EXPECT_EQ(send_mail(sender_->port, "alice@sender.test", {rcpt}, "Subject: dane\n\nhi\n"), "ok");
    EXPECT_TRUE(sender_->proc->wait_for_output("to=<" + rcpt + ">", 30000)) << sender_->proc->output();
    return line_of(sender_->proc->output(), rcpt);
  }

  static Ferry* mx_;
  static Ferry* sender_;
  static test::SignedDns* dns_;
};
Ferry* DaneTest::mx_ = nullptr;
Ferry* DaneTest::sender_ = nullptr;
test::SignedDns* DaneTest::dns_ = nullptr;

TEST_F(DaneTest, DaneEeMatchIsDelivered) {
  const std::string line = deliver("bob@ee.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=dane, dane=dane-ee"), std::string::npos) << line;
}

// A validated MX RRset naming a host with TLSA records: DANE applies to that MX host.
TEST_F(DaneTest, SecureMxLeadsToDane) {
  const std::string line = deliver("bob@viamx.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=dane, dane=dane-ee"), std::string::npos) << line;
}

// RFC 7672 §2.2.1: an MX RRset from an unsigned zone cannot vouch for its host, even when that
// host's own zone is signed and publishes TLSA: no DANE, the ordinary policy.
TEST_F(DaneTest, InsecureMxIgnoresTheHostsTlsa) {
  const std::string line = deliver("bob@insecure.plain.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_EQ(line.find("tls_policy=dane"), std::string::npos) << line;
}

TEST_F(DaneTest, DaneTaMatchWithTheHostNameIsDelivered) {
  const std::string line = deliver("bob@ta.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=dane, dane=dane-ta"), std::string::npos) << line;
}

// DANE-TA checks the name: a chain to the TLSA's CA but for another host name is refused.
TEST_F(DaneTest, DaneTaWithoutTheHostNameIsDeferred) {
  const std::string line = deliver("bob@othername.dane.test");
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << line;
}

// RFC 7672 §2.2: validated TLSA records none of which is usable (PKIX-EE, §3.1.3): STARTTLS is
// still mandatory, the certificate is not authenticated.
TEST_F(DaneTest, OnlyUnusableRecordsMeanUnauthenticatedTls) {
  const std::string line = deliver("bob@pkix.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_NE(line.find("tls=TLSv"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=dane"), std::string::npos) << line;
  EXPECT_EQ(line.find("dane=dane-"), std::string::npos) << line;
}

// RFC 7672 §3.2.2: the TLSA RRset reached through a CNAME; the certificate names the CNAME's
// target (ta.dane.test), not the MX host (alias.dane.test), and is accepted for it.
TEST_F(DaneTest, TlsaThroughCnameAcceptsTheBaseDomainsName) {
  const std::string line = deliver("bob@alias.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_NE(line.find("dane=dane-ta"), std::string::npos) << line;
}

TEST_F(DaneTest, TlsaMismatchIsDeferredNeverPlaintext) {
  const std::string line = deliver("bob@mismatch.dane.test");
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << line;
  EXPECT_NE(line.find("tls_policy=dane"), std::string::npos) << line;
  EXPECT_EQ(mx_->proc->output().find("bob@mismatch.dane.test"), std::string::npos) << mx_->proc->output();
  const std::string id = queue_id_of(line);
  ASSERT_FALSE(id.empty()) << line;
  auto show = test::run({FERRY_BINARY, "queue", "--config", sender_->dir.file("ferry.toml"), "show", id});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("tls_policy=dane"), std::string::npos) << show.out;
}

TEST_F(DaneTest, BogusTlsaSignatureIsDeferred) {
  const std::string line = deliver("bob@bogus.dane.test");
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("TLSA lookup failed"), std::string::npos) << line;
}

TEST_F(DaneTest, TlsaServfailInASignedZoneIsDeferred) {
  const std::string line = deliver("bob@down.dane.test");
  EXPECT_NE(line.find("dsn=4.7.5"), std::string::npos) << line;
  EXPECT_NE(line.find("status=deferred"), std::string::npos) << line;
}

TEST_F(DaneTest, TlsaServfailInAnUnsignedZoneIsDelivered) {
  const std::string line = deliver("bob@flaky.plain.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_EQ(line.find("tls_policy=dane"), std::string::npos) << line;
}

TEST_F(DaneTest, SignedHostWithoutTlsaFallsToTheOrdinaryPolicy) {
  const std::string line = deliver("bob@none.dane.test");
  EXPECT_NE(line.find("status=sent"), std::string::npos) << line;
  EXPECT_EQ(line.find("tls_policy=dane"), std::string::npos) << line;
}

// `ferry probe` shows the TLSA records, that the address answer validated, and the match.
TEST_F(DaneTest, ProbeShowsTlsaRecordsAndTheCertificateMatch) {
  auto ok = test::run(
      {FERRY_BINARY, "probe", "--config", sender_->dir.file("ferry.toml"), "bob@ee.dane.test"}, {}, 60);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("DNS A/AAAA ee.dane.test: ok, DNSSEC validated"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("(dane-ee)"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("the certificate matches a dane-ee TLSA record"), std::string::npos) << ok.out;
  auto bad = test::run(
      {FERRY_BINARY, "probe", "--config", sender_->dir.file("ferry.toml"), "bob@mismatch.dane.test"}, {}, 60);
  EXPECT_NE(bad.out.find("NO TLSA record matches"), std::string::npos) << bad.out;
  auto plain = test::run(
      {FERRY_BINARY, "probe", "--config", sender_->dir.file("ferry.toml"), "bob@flaky.plain.test"}, {}, 60);
  EXPECT_NE(plain.out.find("not DNSSEC validated"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("TLSA"), std::string::npos) << plain.out;
}

}  // namespace
}  // namespace ferry
