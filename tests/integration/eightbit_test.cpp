// Integration: an 8-bit message to a server without 8BITMIME (a FakeMx) is converted to
// quoted-printable (RFC 6152 §3) and delivered: the delivered message is 7-bit, decodes back to
// the original text, and with a [[dkim]] key its renewed signature verifies (python3-dkim);
// an 8-bit non-text part still fails permanently with 5.6.3.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kVerifyPy = std::string(FERRY_SOURCE_DIR) + "/tests/integration/dkim/verify.py";

// Submits `message` (CRLF lines, 8-bit octets kept) with BODY=8BITMIME; "ok" on success.
std::string send_8bit(int port, const std::string& rcpt, const std::string& message) {
  const std::string script =
      "import smtplib,sys\n"
      "s=smtplib.SMTP('127.0.0.1'," +
      std::to_string(port) +
      ",timeout=20)\n"
      "s.ehlo()\n"
      "r=s.sendmail('alice@sender.test',['" +
      rcpt +
      "'],sys.stdin.buffer.read(),mail_options=['BODY=8BITMIME'])\n"
      "s.quit()\nprint('ok' if not r else r)\n";
  auto res = test::run({kPython, "-c", script}, message, 30);
  return res.exit_code == 0 ? res.out.substr(0, res.out.find('\n')) : res.err;
}

bool all_7bit(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

const std::string kText =
    "Gr\xC3\xBC\xC3\x9F"
    "e aus K\xC3\xB6ln \xE2\x82\xAC 12,50 = viel \r\n" +
    std::string(120, 'x') + "\xC3\xA9\r\n.dot line\r\n";

class EightBit : public ::testing::Test {
 protected:
  void SetUp() override {
    mx = std::make_unique<test::FakeMx>("127.0.0.2");
    mx->ehlo_extensions = "PIPELINING\r\n250 SIZE 100000000";  // no 8BITMIME
    dns = std::make_unique<test::DnsServer>(test::loopback_mx_zone());
  }
  void start(const std::string& extra) {
    dir.write(
        "ferry.toml",
        "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
            "\"\nmax_size = \"64MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
            "[delivery]\nport = " +
            std::to_string(mx->port()) + "\n[dns]\nservers = [\"" + dns->address() +
            "\"]\n[retry]\nfirst = \"1h\"\n" + extra);
    serve = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
    ASSERT_TRUE(serve->wait_for_output("ready: ")) << serve->output();
    port = test::port_from_log(serve->output());
  }
  // The text/plain body of `message`, decoded (python's email package).
  std::string decoded_text(const std::string& message) {
    auto r = test::run({kPython, "-c",
                        "import email,sys\nm=email.message_from_bytes(sys.stdin.buffer.read())\n"
                        "p=[x for x in m.walk() if x.get_content_type()=='text/plain'][0]\n"
                        "sys.stdout.buffer.write(p.get_payload(decode=True))\n"},
                       message);
    return r.out;
  }
  void TearDown() override {
    if (serve) serve->stop(SIGTERM);
  }
  test::TempDir dir;
  std::unique_ptr<test::FakeMx> mx;
  std::unique_ptr<test::DnsServer> dns;
  std::unique_ptr<test::Background> serve;
  int port = 0;
};

TEST_F(EightBit, TextIsConvertedToQuotedPrintableAndStillVerifies) {
  auto key = test::run({FERRY_BINARY, "dkim", "keygen", "--domain", "sender.test", "--selector", "ed1",
                        "--algorithm", "ed25519", "--out", dir.file("ed1.key")});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(key.out, m, std::regex("\"(v=DKIM1[^\"]*)\""))) << key.out;
  const std::string txt = m[1];
  start("[[dkim]]\ndomain = \"sender.test\"\nselector = \"ed1\"\nkey = \"" + dir.file("ed1.key") + "\"\n");
  const std::string message =
      "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: Quittung\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n" +
      kText;
  ASSERT_EQ(send_8bit(port, "bob@example.test", message), "ok");
  ASSERT_TRUE(serve->wait_for_output("dkim-signed d=sender.test")) << serve->output();
  ASSERT_TRUE(mx->wait_messages(1)) << serve->output();
  const std::string delivered = mx->messages().at(0).data;
  EXPECT_TRUE(all_7bit(delivered)) << delivered;
  EXPECT_NE(delivered.find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos)
      << delivered;
  EXPECT_EQ(decoded_text(delivered), kText);
  auto v = test::run({kPython, kVerifyPy, "--txt", "ed1._domainkey.sender.test=" + txt}, delivered);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err << delivered;
  EXPECT_TRUE(serve->wait_for_output("converted 8-bit text to quoted-printable, DKIM signature renewed"))
      << serve->output();
  EXPECT_TRUE(serve->wait_for_output("status=sent")) << serve->output();
}

TEST_F(EightBit, NonTextEightBitPartStillFailsPermanently) {
  start("");
  const std::string message =
      "From: alice@sender.test\r\nMIME-Version: 1.0\r\n"
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      "\x89PNG\xFF\xFE\r\n";
  ASSERT_EQ(send_8bit(port, "bob@example.test", message), "ok");
  ASSERT_TRUE(serve->wait_for_output("to=<bob@example.test>", 15000)) << serve->output();
  EXPECT_NE(serve->output().find("dsn=5.6.3"), std::string::npos) << serve->output();
  EXPECT_NE(serve->output().find("status=bounced"), std::string::npos) << serve->output();
  EXPECT_TRUE(mx->messages().empty());
}

}  // namespace
}  // namespace ferry
