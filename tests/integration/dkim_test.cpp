// DKIM signing checked by real verifiers: keys made by `ferry dkim keygen`, messages signed by
// `ferry dkim sign` (the configured DkimSigner, as the server signs at acceptance), then verified
// by python3-dkim (dkimpy: keys given directly, and looked up in a real dnsmasq) and by OpenDKIM's
// opendkim-testmsg (keys in dnsmasq, via tests/integration/dkim/opendkim_verify.sh).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "queue/QueueStore.hpp"
#include "support/DnsServer.hpp"

#include <signal.h>
#include <unistd.h>
#include <algorithm>

namespace {

using ferry::test::run;
using ferry::test::RunResult;
using ferry::test::TempDir;

constexpr int kExitUsage = 64;
constexpr int kExitCantCreate = 73;
constexpr int kExitConfig = 78;
const std::string kPython = "/usr/bin/python3";  // Debian's, with python3-dkim and python3-nacl
const std::string kVerifyPy = std::string(FERRY_SOURCE_DIR) + "/tests/integration/dkim/verify.py";
const std::string kOpendkim = std::string(FERRY_SOURCE_DIR) + "/tests/integration/dkim/opendkim_verify.sh";

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
  return s;
}

// A published key: the TXT record's name and text.
struct Published {
  std::string name;  // "sel._domainkey.example.test"
  std::string text;  // "v=DKIM1; k=...; p=..."
};

// Generates a key with `ferry dkim keygen` and reads the record it prints back.
Published keygen(const TempDir& dir, const std::string& domain, const std::string& selector,
                 const std::string& alg) {
  auto r = run({FERRY_BINARY, "dkim", "keygen", "--domain", domain, "--selector", selector, "--algorithm",
                alg, "--out", dir.file(selector + ".key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex line(R"re(^(\S+)\._domainkey\.(\S+)\. IN TXT ((?:"[^"]*" ?)+)\n$)re");
  EXPECT_TRUE(std::regex_match(r.out, m, line)) << r.out;
  if (m.empty()) return {};
  std::string text;
  const std::string strings = m[3];
  const std::regex quoted(R"re("([^"]*)")re");
  for (auto it = std::sregex_iterator(strings.begin(), strings.end(), quoted); it != std::sregex_iterator();
       ++it) {
    EXPECT_LE((*it)[1].length(), 255) << r.out;
    text += (*it)[1];
  }
  return {std::string(m[1]) + "._domainkey." + std::string(m[2]), text};
}

// Keys shared by every test: made once (RSA key generation takes a while).
struct Keys {
  TempDir dir;
  Published rsa = keygen(dir, "example.test", "rsa1", "rsa");
  Published ed = keygen(dir, "example.test", "ed1", "ed25519");
  std::string rsa_path = dir.file("rsa1.key");
  std::string ed_path = dir.file("ed1.key");
};
Keys& keys() {
  static Keys* k = new Keys;
  return *k;
}

std::string entry(const std::string& selector, const std::string& key, const std::string& canon,
                  const std::string& extra = "") {
  return "[[dkim]]\ndomain = \"example.test\"\nselector = \"" + selector + "\"\nkey = \"" + key +
         "\"\ncanonicalization = \"" + canon + "\"\n" + extra;
}

// `ferry dkim sign` with `config` laid over the default; the signed message on stdout.
RunResult sign(const std::string& config, const std::string& message) {
  TempDir dir;
  dir.write("ferry.toml", config);
  return run({FERRY_BINARY, "dkim", "sign", "--config", dir.file("ferry.toml")}, message);
}

RunResult python_verify(const std::string& message, const std::vector<Published>& published) {
  std::vector<std::string> argv{kPython, kVerifyPy};
  for (const auto& p : published) argv.insert(argv.end(), {"--txt", p.name + "=" + p.text});
  return run(argv, message);
}

RunResult python_verify_dns(const std::string& message, const ferry::test::DnsServer& dns) {
  return run({kPython, kVerifyPy, "--dns", dns.address()}, message);
}

RunResult opendkim_verify(const std::string& message, const std::vector<Published>& published) {
  TempDir dir;
  dir.write("message.eml", message);
  std::vector<std::string> argv{"/bin/sh", kOpendkim, dir.file("message.eml")};
  for (const auto& p : published) argv.insert(argv.end(), {p.name, p.text});
  return run(argv);
}

// dnsmasq option serving `p` (one character-string per 255 octets).
std::string txt_record(const Published& p) {
  std::string opt = "--txt-record=" + p.name;
  for (std::size_t i = 0; i < p.text.size(); i += 255) opt += "," + p.text.substr(i, 255);
  return opt;
}

const std::string kPlain =
    "From: Alice Example <alice@example.test>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Your password reset\r\n"
    "  link (folded)\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "Message-ID: <reset-1@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Hello  Bob, \r\n"
    "\r\n"
    "\tclick the link.\r\n"
    "\r\n"
    "\r\n";

// 8-bit (UTF-8 and Latin-1 bytes), 998-octet lines, WSP runs and trailing WSP: about 300 KiB.
std::string eight_bit_long() {
  std::string m =
      "From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.test>\r\n"
      "To: \"M\xc3\xbcller, Anna\" <anna@example.org>\r\n"
      "Subject: Quittung \xe2\x82\xac 12,50\r\n"
      "Date: Tue, 2 Jan 2024 10:00:00 +0100\r\n"
      "Message-ID: <receipt-42@example.test>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "List-Unsubscribe: <https://example.test/u/42>\r\n"
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
      "\r\n";
  for (int i = 0; i < 2500; ++i) {
    m += "Zeile " + std::to_string(i) + ": Gr\xc3\xbc\xc3\x9f\x65  \t und \xe9t\xe9 \xe2\x82\xac  \r\n";
    if (i % 100 == 0) m += std::string(998, static_cast<char>('a' + i % 26)) + "\r\n";
    if (i % 250 == 0) m += "  \t \r\n\r\n";
  }
  return m + "\r\n \r\n\r\n";
}

const std::vector<std::string> kCanonicalizations{"relaxed/relaxed", "simple/simple", "relaxed/simple",
                                                  "simple/relaxed"};

TEST(dkimKeygen, WritesKeyFileAndPrintsRecord) {
  const Keys& k = keys();
  struct stat st {};
  ASSERT_EQ(::stat(k.rsa_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(k.ed_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(k.rsa.name, "rsa1._domainkey.example.test");
  EXPECT_TRUE(k.rsa.text.starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"))
      << k.rsa.text;
  EXPECT_EQ(k.rsa.text.size(), 18u + 392u);  // split over two character-strings
  EXPECT_EQ(k.ed.name, "ed1._domainkey.example.test");
  EXPECT_TRUE(k.ed.text.starts_with("v=DKIM1; k=ed25519; p=")) << k.ed.text;
  EXPECT_EQ(k.ed.text.size(), 22u + 44u);
  // The key matches the record: openssl derives the same public key from the file.
  auto pub =
      run({"/bin/sh", "-c", "openssl pkey -in '" + k.rsa_path + "' -pubout -outform DER | base64 -w0"});
  EXPECT_EQ("v=DKIM1; k=rsa; p=" + pub.out, k.rsa.text);
}

TEST(dkimKeygen, DefaultFileNameInTheCurrentDirectory) {
  TempDir dir;
  auto r = run({"/bin/sh", "-c",
                "cd '" + dir.path() + "' && exec '" + FERRY_BINARY +
                    "' dkim keygen --domain Example.TEST --selector S2 --algorithm ed25519"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  EXPECT_EQ(::stat(dir.file("example.test.s2.key").c_str(), &st), 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("s2._domainkey.example.test. IN TXT \"v=DKIM1; k=ed25519; p=")) << r.out;
  EXPECT_TRUE(has(r.err, "wrote example.test.s2.key")) << r.err;
}

TEST(dkimKeygen, ExitCodes) {
  TempDir dir;
  const std::string f = FERRY_BINARY;
  const auto code = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {f, "dkim", "keygen"});
    auto r = run(args);
    return r.exit_code;
  };
  dir.write("exists.key", "x");
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--out", dir.file("exists.key")}),
            kExitCantCreate);
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--out", dir.file("no/such/dir.key")}),
            kExitCantCreate);
  EXPECT_EQ(code({"--domain", "d.test", "--out", dir.file("a.key")}), kExitUsage);
  EXPECT_EQ(code({"--selector", "s", "--out", dir.file("a.key")}), kExitUsage);
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--bits", "1024", "--out", dir.file("a.key")}),
            kExitUsage);
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--algorithm", "ed25519", "--bits", "2048",
                  "--out", dir.file("a.key")}),
            kExitUsage);
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--algorithm", "dsa", "--out", dir.file("a.key")}),
            kExitUsage);
  EXPECT_EQ(code({"--domain", "bad domain", "--selector", "s", "--out", dir.file("a.key")}), kExitUsage);
  EXPECT_EQ(code({"--domain", "d.test", "--selector", "s", "--frobnicate"}), kExitUsage);
  EXPECT_EQ(run({f, "dkim"}).exit_code, kExitUsage);
  EXPECT_EQ(run({f, "dkim", "frobnicate"}).exit_code, kExitUsage);
  // Nothing was written by the refused commands; the existing file is untouched.
  struct stat st {};
  EXPECT_NE(::stat(dir.file("a.key").c_str(), &st), 0);
  std::ifstream in(dir.file("exists.key"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "x");
}

// Every algorithm x canonicalization x message, verified by python3-dkim with the key supplied
// directly; the same message with one body byte changed fails.
TEST(dkimVerify, PythonDkimAcceptsEveryCombination) {
  const Keys& k = keys();
  const std::string long_message = eight_bit_long();
  for (const auto& [key, published] : {std::pair{k.rsa_path, k.rsa}, std::pair{k.ed_path, k.ed}}) {
    const std::string selector = published.name.substr(0, published.name.find('.'));
    for (const std::string& canon : kCanonicalizations) {
      for (const std::string* message : {&kPlain, &long_message}) {
        const std::string what = selector + " " + canon + (message == &kPlain ? " plain" : " 8-bit long");
        auto s = sign(entry(selector, key, canon), *message);
        ASSERT_EQ(s.exit_code, 0) << what << ": " << s.err;
        ASSERT_TRUE(s.out.starts_with(
            "DKIM-Signature: v=1; a=" + std::string(selector == "rsa1" ? "rsa-sha256" : "ed25519-sha256") +
            "; c=" + canon + ";"))
            << s.out.substr(0, 200);
        EXPECT_TRUE(s.out.ends_with(*message)) << what << ": the message itself is unchanged";
        auto v = python_verify(s.out, {published});
        EXPECT_EQ(v.exit_code, 0) << what << ": " << v.out << v.err;
        const std::string tampered =
            replace_all(s.out, message == &kPlain ? "click" : "Zeile 2000:", "clack");
        auto t = python_verify(tampered, {published});
        EXPECT_EQ(t.exit_code, 1) << what << ": tampered body must fail: " << t.out << t.err;
        EXPECT_TRUE(t.out.starts_with("fail ")) << t.out;
      }
    }
  }
}

TEST(dkimVerify, TamperedHeadersFailAndFromIsOversigned) {
  const Keys& k = keys();
  for (const auto& [key, published] : {std::pair{k.rsa_path, k.rsa}, std::pair{k.ed_path, k.ed}}) {
    const std::string selector = published.name.substr(0, published.name.find('.'));
    auto s = sign(entry(selector, key, "relaxed/relaxed"), kPlain);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_TRUE(has(replace_all(s.out, "\r\n\t", ""),
                    "h=from:from:to:subject:date:message-id:mime-version:content-type;"))
        << s.out;
    EXPECT_EQ(python_verify(s.out, {published}).exit_code, 0);
    // A changed signed header fails.
    EXPECT_EQ(python_verify(replace_all(s.out, "Your password reset", "Your passwort reset"), {published})
                  .exit_code,
              1);
    // A second From: added later fails: From is oversigned (listed once more than present).
    const std::string extra_from =
        replace_all(s.out, "From: Alice Example", "From: Mallory <m@evil.test>\r\nFrom: Alice Example");
    EXPECT_EQ(python_verify(extra_from, {published}).exit_code, 1);
    // An unsigned header field added in transit (e.g. another Received:) does not break it.
    const std::string received =
        "Received: from relay.example.org by mx.example.org; Mon, 1 Jan 2024 00:00:01 +0000\r\n";
    EXPECT_EQ(python_verify(received + s.out, {published}).exit_code, 0);
  }
}

TEST(dkimVerify, RsaAndEd25519TogetherGiveTwoSignatures) {
  const Keys& k = keys();
  auto s = sign(entry("rsa1", k.rsa_path, "relaxed/relaxed") + entry("ed1", k.ed_path, "relaxed/relaxed"),
                eight_bit_long());
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(s.out.starts_with("DKIM-Signature: v=1; a=rsa-sha256;")) << s.out.substr(0, 100);
  EXPECT_TRUE(has(s.out, "\r\nDKIM-Signature: v=1; a=ed25519-sha256;"));
  auto v = python_verify(s.out, {k.rsa, k.ed});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(v.out, "pass d=example.test s=rsa1 a=rsa-sha256\npass d=example.test s=ed1 a=ed25519-sha256\n");
}

TEST(dkimVerify, SubdomainsAndExpiry) {
  const Keys& k = keys();
  const std::string config =
      entry("ed1", k.ed_path, "relaxed/relaxed", "sign_subdomains = true\nexpire = \"7d\"\n");
  auto s = sign(config, replace_all(kPlain, "alice@example.test", "alice@mail.example.test"));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(has(s.out, "d=example.test;")) << s.out;
  const auto t = std::regex_search(s.out, std::regex(R"(t=\d+; x=\d+;)"));
  EXPECT_TRUE(t) << s.out;
  auto v = python_verify(s.out, {k.ed});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // Without sign_subdomains the subdomain is not signed.
  auto n = sign(entry("ed1", k.ed_path, "relaxed/relaxed"),
                replace_all(kPlain, "alice@example.test", "a@mail.example.test"));
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_TRUE(has(n.err, "not signed: no [[dkim]] entry for mail.example.test")) << n.err;
}

TEST(dkimVerify, PythonDkimWithKeysFromDnsmasq) {
  const Keys& k = keys();
  ferry::test::DnsServer dns({txt_record(k.rsa), txt_record(k.ed)});
  for (const std::string& canon : {std::string("relaxed/relaxed"), std::string("simple/simple")}) {
    auto s = sign(entry("rsa1", k.rsa_path, canon) + entry("ed1", k.ed_path, canon), eight_bit_long());
    ASSERT_EQ(s.exit_code, 0) << s.err;
    auto v = python_verify_dns(s.out, dns);
    EXPECT_EQ(v.exit_code, 0) << canon << ": " << v.out << v.err;
    EXPECT_EQ(v.out, "pass d=example.test s=rsa1 a=rsa-sha256\npass d=example.test s=ed1 a=ed25519-sha256\n");
    auto t = python_verify_dns(replace_all(s.out, "Zeile 7:", "Zeile 8:"), dns);
    EXPECT_EQ(t.exit_code, 1) << t.out << t.err;
  }
}

TEST(dkimVerify, OpendkimWithKeysFromDnsmasq) {
  const Keys& k = keys();
  const std::string long_message = eight_bit_long();
  for (const auto& [key, published] : {std::pair{k.rsa_path, k.rsa}, std::pair{k.ed_path, k.ed}}) {
    const std::string selector = published.name.substr(0, published.name.find('.'));
    for (const std::string& canon : {std::string("relaxed/relaxed"), std::string("simple/simple")}) {
      for (const std::string* message : {&kPlain, &long_message}) {
        const std::string what = selector + " " + canon + (message == &kPlain ? " plain" : " 8-bit long");
        auto s = sign(entry(selector, key, canon), *message);
        ASSERT_EQ(s.exit_code, 0) << what << ": " << s.err;
        auto v = opendkim_verify(s.out, {published});
        if (v.exit_code == 77) GTEST_SKIP() << "opendkim_verify.sh: " << v.err;
        EXPECT_EQ(v.exit_code, 0) << what << ": " << v.out << v.err;
        const std::string tampered =
            replace_all(s.out, message == &kPlain ? "click" : "Zeile 2000:", "clack");
        auto t = opendkim_verify(tampered, {published});
        EXPECT_EQ(t.exit_code, 1) << what << ": tampered body must fail: " << t.err;
        EXPECT_TRUE(has(t.err, "Bad signature") || has(t.err, "body hash")) << t.err;
      }
    }
  }
}

// At most 10 instances of one name are signed (the bottom-most): python3-dkim and OpenDKIM both
// verify such a signature; a change to a signed instance fails it, a change above them not.
// (Keywords: may repeat in RFC 5322 §3.6; OpenDKIM refuses a message with two To: fields.)
TEST(dkimVerify, CappedInstancesVerify) {
  const Keys& k = keys();
  std::string message =
      "From: Alice <alice@example.test>\r\nTo: bob@example.org\r\nSubject: many\r\n"
      "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n";
  for (int i = 0; i < 25; ++i) message += "Keywords: k" + std::to_string(i) + "\r\n";
  message += "\r\nhello\r\n";
  const std::string headers = "headers = [\"from\", \"to\", \"subject\", \"date\", \"keywords\"]\n";
  for (const auto& [key, published] : {std::pair{k.rsa_path, k.rsa}, std::pair{k.ed_path, k.ed}}) {
    const std::string selector = published.name.substr(0, published.name.find('.'));
    auto s = sign(entry(selector, key, "relaxed/relaxed", headers), message);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    std::string h = replace_all(s.out, "\r\n\t", "");
    h = h.substr(h.find("h=") + 2);
    EXPECT_EQ(h.substr(0, h.find(';')),
              "from:from:to:subject:date:keywords:keywords:keywords:keywords:keywords:"
              "keywords:keywords:keywords:keywords:keywords")
        << s.out;
    auto v = python_verify(s.out, {published});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_EQ(python_verify(replace_all(s.out, "Keywords: k24", "Keywords: x24"), {published}).exit_code, 1);
    EXPECT_EQ(python_verify(replace_all(s.out, "Keywords: k3\r", "Keywords: x3\r"), {published}).exit_code, 0)
        << "k3 is above the 10 signed instances";
    auto o = opendkim_verify(s.out, {published});
    if (o.exit_code == 77) continue;
    EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  }
}

TEST(dkimCli, SignRefusesUnusableKeys) {
  TempDir dir;
  auto missing = sign(entry("s", dir.file("missing.key"), "relaxed/relaxed"), kPlain);
  EXPECT_EQ(missing.exit_code, kExitConfig);
  EXPECT_TRUE(
      has(missing.err, "DKIM key " + dir.file("missing.key") + ": cannot open: No such file or directory"))
      << missing.err;
  dir.write("garbage.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  auto garbage = sign(entry("s", dir.file("garbage.key"), "relaxed/relaxed"), kPlain);
  EXPECT_EQ(garbage.exit_code, kExitConfig);
  EXPECT_TRUE(has(garbage.err, "DKIM key " + dir.file("garbage.key") + ": not a PEM private key"))
      << garbage.err;
  auto bad_config = sign("[[dkim]]\ndomain = \"example.test\"\n", kPlain);
  EXPECT_EQ(bad_config.exit_code, kExitConfig);
  EXPECT_TRUE(has(bad_config.err, ":1:1: dkim[0].selector: required key is missing")) << bad_config.err;
}

}  // namespace

namespace ferry {
namespace {

// The server path: `ferry serve` signs accepted mail before the durable commit; what is stored
// (and later sent) verifies with python3-dkim.
TEST(dkimServer, SignsAcceptedMailBeforeCommit) {
  if (access(kPython.c_str(), X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  Published rsa = keygen(dir, "example.test", "srv1", "rsa");
  Published ed = keygen(dir, "example.test", "srv2", "ed25519");
  dir.write("ferry.toml", "hostname = \"mx.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\nmax_size = \"16MiB\"\n"
                              "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                              "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n"
                              "[[dkim]]\ndomain = \"example.test\"\nselector = \"srv1\"\nkey = \"" +
                              dir.file("srv1.key") +
                              "\"\n"
                              "[[dkim]]\ndomain = \"example.test\"\nselector = \"srv2\"\nkey = \"" +
                              dir.file("srv2.key") + "\"\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  ASSERT_TRUE(serve.wait_for_output("ready: ")) << serve.output();
  const int port = test::port_from_log(serve.output());
  ASSERT_GT(port, 0) << serve.output();
  auto send = [&](const std::string& from_header) {
    return test::send_mail(port, "app@example.test", {"user@far.test"},
                           "From: " + from_header + "\nTo: user@far.test\nSubject: Reset\n\nhello\n");
  };
  ASSERT_EQ(send("App <app@example.test>"), "ok");
  ASSERT_TRUE(serve.wait_for_output("dkim-signed d=example.test")) << serve.output();
  ASSERT_EQ(send("someone@other.test"), "ok");
  ASSERT_TRUE(serve.wait_for_output("not dkim-signed")) << serve.output();
  serve.stop(SIGTERM);

  queue::QueueOptions o;
  o.path = dir.file("q");
  o.map_size = 16u << 20;
  auto store = queue::QueueStore::open(o);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> bodies;
  ASSERT_TRUE((*store)->for_each([&](const queue::MessageRecord& rec) {
    bodies.push_back(*(*store)->read_body(rec.id));
    return true;
  }));
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_TRUE(bodies[0].starts_with("DKIM-Signature:")) << bodies[0];
  auto v = run({kPython, kVerifyPy, "--txt", rsa.name + "=" + rsa.text, "--txt", ed.name + "=" + ed.text},
               bodies[0]);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(std::count(v.out.begin(), v.out.end(), '\n'), 2) << v.out;  // RSA and Ed25519
  EXPECT_FALSE(bodies[1].starts_with("DKIM-Signature:")) << "mail From: another domain is not signed";
}

}  // namespace
}  // namespace ferry
