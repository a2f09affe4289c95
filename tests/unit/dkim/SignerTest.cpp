// DkimSigner: header selection and oversigning, the DKIM-Signature format, the RFC 8463
// Appendix A known answer, signing-domain choice and start-up key checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>

#include "mta/config/Config.hpp"  // header only: DkimEntry's default header list
#include "mta/dkim/DkimSigner.hpp"
#include "mta/dkim/FromDomain.hpp"
#include "mta/dkim/SignatureHeader.hpp"

namespace ferry::dkim {
namespace {

constexpr std::string_view kRfc8032Key =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

// The message of RFC 6376 Appendix A / RFC 8463 Appendix A.
constexpr std::string_view kRfcMessage =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

DkimKey rfc_key() {
  auto k = DkimKey::from_pem(kRfc8032Key, "rfc");
  EXPECT_TRUE(k);
  return std::move(k).value();
}

SigningEntry entry(std::string domain, std::string selector) {
  SigningEntry e;
  e.domain = std::move(domain);
  e.selector = std::move(selector);
  e.key_path = "(memory)";
  return e;
}

std::vector<std::string> lines(const std::string& field) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < field.size()) {
    const auto eol = field.find("\r\n", pos);
    out.push_back(field.substr(pos, eol - pos));
    pos = eol == std::string::npos ? field.size() : eol + 2;
  }
  return out;
}

// The signed form of the Ed25519 example as python3-dkim's copy of it has it (simple/simple,
// t=1518460054, the dkimpy rendering of RFC 8463 Appendix A): Ed25519 is deterministic, so
// signing the same data with the same key must give the same b= byte for byte.
TEST(dkimSigner, Rfc8463AppendixAKnownAnswer) {
  const std::string unsigned_field =
      "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \r\n"
      " d=football.example.com; i=@football.example.com; \r\n"
      " q=dns/txt; s=brisbane; t=1518460054; h=from : to : \r\n"
      " subject : date : message-id : from : subject : date; \r\n"
      " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \r\n"
      " b=";
  const auto parts = split_message(kRfcMessage);
  Sha256 bh;
  canonicalize_body(parts.body, Canon::Simple, [&](std::string_view p) { bh.update(p); });
  EXPECT_EQ(base64(bh.finish()), "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=");
  const std::vector<std::string> h{"from", "to", "subject", "date", "message-id", "from", "subject", "date"};
  auto sig = rfc_key().sign(header_hash_input(parts.headers, h, unsigned_field, Canon::Simple));
  ASSERT_TRUE(sig);
  EXPECT_EQ(base64(*sig),
            "9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YBo0wBLR++X5LqmsxXaOYLLJe46l10AQ==");
}

TEST(dkimSigner, SelectHeadersOversignsFrom) {
  const auto parts = split_message(
      "Received: x\r\nFROM: a@example.com\r\nTo: b@example.org\r\nto: c@example.org\r\nSubject: s\r\n\r\n");
  EXPECT_EQ(select_headers(parts.headers, {"from", "to", "cc", "subject", "date"}),
            (std::vector<std::string>{"from", "from", "to", "to", "subject"}));
  EXPECT_EQ(select_headers(parts.headers, {"Subject", "From"}),
            (std::vector<std::string>{"subject", "from", "from"}));
  // No From at all still lists it once (nothing can be added).
  EXPECT_EQ(select_headers(split_message("Subject: s\r\n\r\n").headers, {"from", "subject"}),
            (std::vector<std::string>{"from", "subject"}));
}

TEST(dkimSigner, HeaderHashInputTakesInstancesBottomUp) {
  const auto parts = split_message("To: first\r\nFrom: f\r\nTo: second\r\n\r\n");
  const std::string data =
      header_hash_input(parts.headers, {"to", "to", "to", "from"}, "DKIM-Signature: b=", Canon::Relaxed);
  // §5.4.2: the last instance first; the third "to" names no instance and adds nothing.
  EXPECT_EQ(data, "to:second\r\nto:first\r\nfrom:f\r\ndkim-signature:b=");
}

TEST(dkimSigner, SignatureFieldFormat) {
  SignatureFields f;
  f.algorithm = Algorithm::RsaSha256;
  f.header_canon = Canon::Relaxed;
  f.body_canon = Canon::Simple;
  f.domain = "example.com";
  f.selector = "sel2025";
  f.signed_headers = {"from",
                      "from",
                      "to",
                      "cc",
                      "subject",
                      "date",
                      "message-id",
                      "reply-to",
                      "in-reply-to",
                      "references",
                      "mime-version",
                      "content-type",
                      "content-transfer-encoding",
                      "list-unsubscribe",
                      "list-unsubscribe-post"};
  f.timestamp = 1700000000;
  f.expiration = 1700086400;
  f.body_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const std::string u = unsigned_signature_field(f);
  EXPECT_EQ(u.rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com; s=sel2025;", 0), 0u)
      << u;
  EXPECT_EQ(u.substr(u.size() - 3), " b=");
  const std::string full = complete_signature_field(u, std::string(344, 'Q'));
  ASSERT_EQ(full.substr(full.size() - 2), "\r\n");
  const auto ls = lines(full);
  ASSERT_GT(ls.size(), 5u);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    EXPECT_LE(ls[i].size() + (i ? 7 : 0), 78u) << ls[i];  // a continuation TAB counts as 8 columns
    if (i) {
      EXPECT_EQ(ls[i][0], '\t') << ls[i];
    }
  }
  // Unfolded, the tags read as expected and in order.
  std::string unfolded;
  for (const auto& l : ls) unfolded += l;
  std::string flat;  // folds removed (FWS inside h= and b= is only CRLF TAB here)
  for (char c : unfolded)
    if (c != '\t') flat += c;
  EXPECT_NE(
      flat.find("t=1700000000; x=1700086400; h=from:from:to:cc:subject:date:message-id:reply-to:in-reply-to:"
                "references:mime-version:content-type:content-transfer-encoding:list-unsubscribe:"
                "list-unsubscribe-post;"),
      std::string::npos)
      << unfolded;
  EXPECT_NE(unfolded.find("bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"), std::string::npos) << unfolded;
  // Removing the folds of b= gives the signature back.
  const auto b = unfolded.rfind(" b=");
  std::string sig;
  for (char c : unfolded.substr(b + 3))
    if (c != '\t') sig += c;
  EXPECT_EQ(sig, std::string(344, 'Q'));
}

TEST(dkimSigner, SignMessageWithFixedTime) {
  SigningEntry e = entry("football.example.com", "brisbane");
  e.expire_seconds = 3600;
  auto field = sign_message(kRfcMessage, e, rfc_key(), 1528637909123);
  ASSERT_TRUE(field) << field.error().message;
  std::string one_line = *field;  // every fold here is between tags: CRLF TAB for a space
  for (std::size_t p; (p = one_line.find("\r\n\t")) != std::string::npos;) one_line.replace(p, 3, " ");
  EXPECT_EQ(
      one_line.rfind("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=football.example.com; "
                     "s=brisbane; t=1528637909; x=1528641509; h=from:from:to:subject:date:message-id; "
                     "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=",
                     0),
      0u)
      << *field;
  // Deterministic (Ed25519): same input, same field. bh= is the relaxed body hash of the RFC
  // example (RFC 8463 Appendix A.3).
  EXPECT_EQ(*field, *sign_message(kRfcMessage, e, rfc_key(), 1528637909123));
}

TEST(dkimSigner, ChoosesEntriesByFromDomain) {
  SigningEntry exact = entry("example.com", "a");
  SigningEntry second = entry("example.com", "b");
  SigningEntry parent = entry("example.org", "p");
  parent.sign_subdomains = true;
  SigningEntry no_sub = entry("example.net", "n");
  const DkimSigner s = DkimSigner::with_keys(
      {{exact, rfc_key()}, {second, rfc_key()}, {parent, rfc_key()}, {no_sub, rfc_key()}});
  const auto sign = [&](std::string from) {
    auto r = s.sign("From: " + from + "\r\nSubject: x\r\n\r\nbody\r\n", 1000);
    EXPECT_TRUE(r);
    return std::move(r).value();
  };
  auto r = sign("Joe <joe@Example.COM>");
  EXPECT_EQ(r.domain, "example.com");
  EXPECT_EQ(lines(r.headers).empty(), false);
  EXPECT_NE(r.headers.find("s=a;"), std::string::npos);
  EXPECT_NE(r.headers.find("s=b;"), std::string::npos);  // both entries sign
  EXPECT_EQ(r.headers.rfind("DKIM-Signature:", 0), 0u);

  r = sign("news@mail.Example.ORG");
  EXPECT_EQ(r.domain, "example.org");
  EXPECT_NE(r.headers.find("d=example.org;"), std::string::npos);
  r = sign("x@a.b.example.org (comment @evil.example)");
  EXPECT_EQ(r.domain, "example.org");

  EXPECT_EQ(sign("x@sub.example.net").skipped, "no [[dkim]] entry for sub.example.net");
  EXPECT_EQ(sign("x@sub.example.com").skipped, "no [[dkim]] entry for sub.example.com");
  EXPECT_EQ(sign("x@example.net").domain, "example.net");
  EXPECT_EQ(sign("a@example.com, b@example.org").skipped, "From: has addresses in several domains");
  EXPECT_EQ(sign("undisclosed").skipped, "no domain in From:");
  EXPECT_EQ(sign("\"a@example.org\" <a@example.com>").domain, "example.com");

  auto none = s.sign("Subject: x\r\n\r\n", 0);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->skipped, "no From: header field");
  EXPECT_TRUE(none->headers.empty());
  auto two = s.sign("From: a@example.com\r\nFrom: b@example.com\r\n\r\n", 0);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->skipped, "several From: header fields");
  EXPECT_EQ(DkimSigner().sign(kRfcMessage, 0)->skipped, "no [[dkim]] entries");
}

// A header section with `n` To: fields (numbered from the top) and one From:.
std::string many_to(std::size_t n) {
  std::string m = "From: a@example.com\r\nSubject: many\r\n";
  m.reserve(n * 24 + 64);
  for (std::size_t i = 0; i < n; ++i) m += "To: r" + std::to_string(i) + "@example.org\r\n";
  return m + "\r\nbody\r\n";
}

std::size_t count(const std::vector<std::string>& h, const std::string& name) {
  return static_cast<std::size_t>(std::count(h.begin(), h.end(), name));
}

TEST(dkimSigner, SignedInstancesOfOneNameAreCapped) {
  const std::string message = many_to(25);
  const auto parts = split_message(message);
  const auto h = select_headers(parts.headers, {"from", "to", "subject"});
  EXPECT_EQ(count(h, "to"), kMaxSignedInstances);
  EXPECT_EQ(count(h, "from"), 2u);
  // The bottom-most instances are the ones signed (§5.4.2: verifiers take them first).
  const std::string data = header_hash_input(parts.headers, h, "DKIM-Signature: b=", Canon::Relaxed);
  EXPECT_NE(data.find("to:r24@example.org"), std::string::npos);
  EXPECT_NE(data.find("to:r15@example.org"), std::string::npos);
  EXPECT_EQ(data.find("to:r14@example.org"), std::string::npos);
}

TEST(dkimSigner, TwoHundredThousandFieldsSignInLinearTime) {
  // The signer used to rescan every field for each instance of a name: 60,000 To: fields took
  // seconds of the I/O thread, 25 MiB of them hours. One pass now: 200,000 well within 2 s even
  // on a loaded machine (a quadratic walk would need about 10^10 steps).
  const std::string message = many_to(200000);
  const DkimSigner s = DkimSigner::with_keys({{entry("example.com", "a"), rfc_key()}});
  const auto started = std::chrono::steady_clock::now();
  auto r = s.sign(message, 1000);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(2));
  std::string h = r->headers.substr(r->headers.find("h=") + 2);
  h = h.substr(0, h.find(';'));
  std::size_t to = 0;
  for (std::size_t p = 0; (p = h.find("to", p)) != std::string::npos; p += 2) ++to;
  EXPECT_EQ(to, kMaxSignedInstances) << h;
}

// After the message was changed (8-bit text made quoted-printable), our own signature is
// replaced by a new one over the changed message; a foreign signature stays; a message without
// one of ours is not signed anew.
TEST(dkimSigner, ResignReplacesOnlyOurOwnSignature) {
  const DkimSigner s = DkimSigner::with_keys({{entry("example.com", "sel"), rfc_key()}});
  const std::string original = "From: joe@example.com\r\nSubject: x\r\n\r\nbody\r\n";
  auto first = s.sign(original, 1000);
  ASSERT_TRUE(first);
  const std::string foreign = "DKIM-Signature: v=1; a=ed25519-sha256; d=other.example; s=sel;\r\n\tb=abc\r\n";
  const std::string changed =
      first->headers + foreign + "From: joe@example.com\r\nSubject: x\r\n\r\nBODY\r\n";
  auto again = s.resign(changed, 2000);
  ASSERT_TRUE(again) << again.error().message;
  const std::string stripped = foreign + "From: joe@example.com\r\nSubject: x\r\n\r\nBODY\r\n";
  auto expected = s.sign(stripped, 2000);
  ASSERT_TRUE(expected);
  EXPECT_EQ(*again, expected->headers + stripped);
  EXPECT_EQ(again->find(first->headers), std::string::npos);
  // Not ours: unchanged.
  const std::string theirs = foreign + "From: joe@example.com\r\n\r\nBODY\r\n";
  EXPECT_EQ(s.resign(theirs, 2000).value(), theirs);
}

TEST(dkimSigner, CreateLoadsAndChecksEveryKey) {
  auto ok = DkimSigner::create({});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->empty());
  SigningEntry bad = entry("example.com", "s");
  bad.key_path = "/nonexistent/example.com.s.key";
  auto r = DkimSigner::create({bad});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "DKIM key /nonexistent/example.com.s.key: cannot open: No such file or directory");
}

TEST(dkimSigner, DefaultHeadersMatchTheConfigDefault) {
  EXPECT_EQ(config::DkimEntry{}.headers, default_signed_headers());
}

TEST(dkimFromDomain, AddressDomains) {
  using V = std::vector<std::string>;
  EXPECT_EQ(address_domains(" Joe <joe@Example.com>"), V{"example.com"});
  EXPECT_EQ(address_domains(" joe@example.com."), V{"example.com"});
  EXPECT_EQ(address_domains(" \"Doe, John\" <j@a.example>, k@b.example"), (V{"a.example", "b.example"}));
  EXPECT_EQ(address_domains(" j@a.example (Joe @ c.example)"), V{"a.example"});
  EXPECT_EQ(address_domains(" \"x@q.example\"@a.example"), V{"a.example"});
  EXPECT_EQ(address_domains(" team: a@x.example, b@y.example;"), (V{"x.example", "y.example"}));
  EXPECT_EQ(address_domains(" <@route.example:j@a.example>"), V{"a.example"});
  EXPECT_EQ(address_domains(" j@[192.0.2.1]"), V{});
  EXPECT_EQ(address_domains(" nobody"), V{});
  EXPECT_EQ(address_domains(" Joe\r\n <joe@a.example>"), V{"a.example"});
}

}  // namespace
}  // namespace ferry::dkim
