// [[dkim]]: defaults, overlay, render round trip and every validation error (file:line:column).
// Suite names start with "dkim" so that `ctest -R dkim` runs them with the DKIM tests.
#include <gtest/gtest.h>

#include <chrono>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::load;

#define DKIM(extra) "[[dkim]]\ndomain = \"example.com\"\nselector = \"s1\"\nkey = \"/k.pem\"\n" extra

TEST(dkimConfig, NoneByDefault) {
  EXPECT_TRUE(load("").dkim.empty());
  auto r = load_config(std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->dkim.empty());
}

TEST(dkimConfig, EntryDefaults) {
  const Config c = load(DKIM(""));
  ASSERT_EQ(c.dkim.size(), 1u);
  const DkimEntry& d = c.dkim[0];
  EXPECT_EQ(d.domain, "example.com");
  EXPECT_EQ(d.selector, "s1");
  EXPECT_EQ(d.key, "/k.pem");
  EXPECT_EQ(d.header_canonicalization, DkimCanonicalization::Relaxed);
  EXPECT_EQ(d.body_canonicalization, DkimCanonicalization::Relaxed);
  EXPECT_EQ(d.headers, (std::vector<std::string>{"from", "to", "cc", "subject", "date", "message-id",
                                                 "reply-to", "in-reply-to", "references", "mime-version",
                                                 "content-type", "content-transfer-encoding",
                                                 "list-unsubscribe", "list-unsubscribe-post"}));
  EXPECT_FALSE(d.sign_subdomains);
  EXPECT_EQ(d.expire, 0ms);
}

TEST(dkimConfig, EveryKey) {
  const Config c = load(
      "[[dkim]]\ndomain = \"Example.COM\"\nselector = \"Rsa.2025\"\nkey = \"/etc/ferry/rsa.key\"\n"
      "canonicalization = \"simple/relaxed\"\nheaders = [\"From\", \"Subject\", \"X-Custom\"]\n"
      "sign_subdomains = true\nexpire = \"7d\"\n"
      "[[dkim]]\ndomain = \"example.com\"\nselector = \"ed\"\nkey = \"/etc/ferry/ed.key\"\n"
      "canonicalization = \"relaxed/simple\"\nexpire = 0\n");
  ASSERT_EQ(c.dkim.size(), 2u);
  EXPECT_EQ(c.dkim[0].domain, "example.com");
  EXPECT_EQ(c.dkim[0].selector, "rsa.2025");
  EXPECT_EQ(c.dkim[0].header_canonicalization, DkimCanonicalization::Simple);
  EXPECT_EQ(c.dkim[0].body_canonicalization, DkimCanonicalization::Relaxed);
  EXPECT_EQ(c.dkim[0].headers, (std::vector<std::string>{"from", "subject", "x-custom"}));
  EXPECT_TRUE(c.dkim[0].sign_subdomains);
  EXPECT_EQ(c.dkim[0].expire, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.dkim[1].header_canonicalization, DkimCanonicalization::Relaxed);
  EXPECT_EQ(c.dkim[1].body_canonicalization, DkimCanonicalization::Simple);
  EXPECT_EQ(load(DKIM("canonicalization = \"simple/simple\"\n")).dkim[0].header_canonicalization,
            DkimCanonicalization::Simple);
}

TEST(dkimConfig, RenderRoundTrips) {
  const Config c = load(
      "[[dkim]]\ndomain = \"example.com\"\nselector = \"a\"\nkey = \"/k \\\"1\\\".pem\"\n"
      "canonicalization = \"simple/relaxed\"\nheaders = [\"from\", \"to\"]\nsign_subdomains = true\n"
      "expire = \"90m\"\n"
      "[[dkim]]\ndomain = \"example.org\"\nselector = \"b\"\nkey = \"/k2.pem\"\n");
  const std::string text = render(c);
  EXPECT_NE(text.find("[[dkim]]\ndomain = \"example.com\"\nselector = \"a\"\nkey = \"/k \\\"1\\\".pem\"\n"
                      "canonicalization = \"simple/relaxed\"\nheaders = [\"from\", \"to\"]\n"
                      "sign_subdomains = true\nexpire = \"90m\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("canonicalization = \"relaxed/relaxed\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("expire = \"0s\"\n"), std::string::npos) << text;
  auto back = load_config_text(text, "rendered.toml");
  ASSERT_TRUE(back.ok()) << back.error().str() << "\n" << text;
  EXPECT_EQ(*back, c);
  EXPECT_EQ(render(*back), text);
  EXPECT_EQ(render(load("")).find("[[dkim]]"), std::string::npos);
}

TEST(dkimConfig, Errors) {
  struct Case {
    const char* name;
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"unknown key", DKIM("selctor = \"x\"\n"),
       "t.toml:5:1: dkim[0].selctor: unknown key; did you mean \"selector\"?"},
      {"not an array", "dkim = 1\n", "t.toml:1:8: dkim: expected array of tables, got integer"},
      {"domain missing", "[[dkim]]\nselector = \"s\"\nkey = \"/k\"\n",
       "t.toml:1:1: dkim[0].domain: required key is missing"},
      {"selector missing", "[[dkim]]\ndomain = \"example.com\"\nkey = \"/k\"\n",
       "t.toml:1:1: dkim[0].selector: required key is missing"},
      {"key missing", "[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\n",
       "t.toml:1:1: dkim[0].key: required key is missing (a PEM private key file)"},
      {"bad domain", "[[dkim]]\ndomain = \"exa mple.com\"\nselector = \"s\"\nkey = \"/k\"\n",
       "t.toml:2:10: dkim[0].domain: \"exa mple.com\" is not a valid domain name"},
      {"bad selector", "[[dkim]]\ndomain = \"example.com\"\nselector = \"s_1\"\nkey = \"/k\"\n",
       "t.toml:3:12: dkim[0].selector: \"s_1\" is not a valid selector (letters, digits, hyphens and dots)"},
      {"empty key", "[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey = \"\"\n",
       "t.toml:4:7: dkim[0].key: must not be empty"},
      {"canonicalization", DKIM("canonicalization = \"relaxed\"\n"),
       "t.toml:5:20: dkim[0].canonicalization: invalid value \"relaxed\" (expected \"header/body\", each "
       "simple "
       "or relaxed, e.g. \"relaxed/relaxed\")"},
      {"canonicalization word", DKIM("canonicalization = \"relaxed/nofws\"\n"),
       "t.toml:5:20: dkim[0].canonicalization: invalid value \"relaxed/nofws\" (expected \"header/body\", "
       "each "
       "simple or relaxed, e.g. \"relaxed/relaxed\")"},
      {"headers not array", DKIM("headers = \"from\"\n"),
       "t.toml:5:11: dkim[0].headers: expected array, got string"},
      {"header name", DKIM("headers = [\"from\", \"Bad:Name\"]\n"),
       "t.toml:5:20: dkim[0].headers[1]: \"Bad:Name\" is not a header field name"},
      {"header empty", DKIM("headers = [\"from\", \"\"]\n"),
       "t.toml:5:20: dkim[0].headers[1]: \"\" is not a header field name"},
      {"header duplicate", DKIM("headers = [\"from\", \"To\", \"to\"]\n"),
       "t.toml:5:26: dkim[0].headers[2]: duplicate header field \"to\""},
      {"no from", DKIM("headers = [\"to\", \"subject\"]\n"),
       "t.toml:5:11: dkim[0].headers: must include \"From\" (RFC 6376 §5.4: the From: field is always "
       "signed)"},
      {"sign_subdomains type", DKIM("sign_subdomains = \"yes\"\n"),
       "t.toml:5:19: dkim[0].sign_subdomains: expected boolean, got string"},
      {"expire", DKIM("expire = \"soon\"\n"),
       "t.toml:5:10: dkim[0].expire: invalid duration \"soon\" (expected a number with unit ms, s, m, h or "
       "d, "
       "e.g. \"30s\"; a bare number is seconds)"},
      {"expire below 1s", DKIM("expire = \"500ms\"\n"),
       "t.toml:5:10: dkim[0].expire: must be 0 (no x= tag) or at least 1s"},
      {"duplicate selector",
       DKIM("") "[[dkim]]\ndomain = \"EXAMPLE.com\"\nselector = \"S1\"\nkey = \"/other.pem\"\n",
       "t.toml:7:12: dkim[1].selector: duplicate selector \"s1\" for \"example.com\" (see dkim[0])"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.text), c.want) << c.name << ":\n" << c.text;
  // The same selector for another domain is fine.
  EXPECT_EQ(error_of(DKIM("") "[[dkim]]\ndomain = \"example.org\"\nselector = \"s1\"\nkey = \"/k\"\n"),
            "(ok)");
}

}  // namespace
}  // namespace ferry::config
