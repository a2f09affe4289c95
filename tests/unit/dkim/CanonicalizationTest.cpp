// Canonicalization: RFC 6376 §3.4.6 examples and the edge cases of §3.4.1-§3.4.4.
#include <gtest/gtest.h>

#include <string>

#include "mta/dkim/Canonicalization.hpp"
#include "mta/dkim/DkimKey.hpp"

namespace ferry::dkim {
namespace {

std::string body_hash(std::string_view body, Canon c) {
  Sha256 h;
  canonicalize_body(body, c, [&](std::string_view p) { h.update(p); });
  return base64(h.finish());
}

std::string headers(std::string_view message, Canon c) {
  std::string out;
  for (const auto& f : split_message(message).headers) out += canonicalize_header(f.field, c);
  return out;
}

// RFC 6376 §3.4.6 (the example's "<SP>" and "<HTAB>" written out).
constexpr std::string_view kRfcExample = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

TEST(dkimCanonicalization, Rfc6376Section346Relaxed) {
  const auto parts = split_message(kRfcExample);
  ASSERT_EQ(parts.headers.size(), 2u);
  EXPECT_EQ(parts.headers[0].name, "A");
  EXPECT_EQ(parts.headers[1].name, "B");
  EXPECT_EQ(parts.headers[1].field, "B : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(headers(kRfcExample, Canon::Relaxed), "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canonicalize_body(parts.body, Canon::Relaxed), " C\r\nD E\r\n");
}

TEST(dkimCanonicalization, Rfc6376Section346Simple) {
  const auto parts = split_message(kRfcExample);
  EXPECT_EQ(headers(kRfcExample, Canon::Simple), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(canonicalize_body(parts.body, Canon::Simple), " C \r\nD \t E\r\n");
}

TEST(dkimCanonicalization, EmptyBody) {
  // §3.4.3: simple turns an empty body into one CRLF; §3.4.4: relaxed leaves it empty.
  EXPECT_EQ(canonicalize_body("", Canon::Simple), "\r\n");
  EXPECT_EQ(canonicalize_body("", Canon::Relaxed), "");
  EXPECT_EQ(canonicalize_body("\r\n\r\n\r\n", Canon::Simple), "\r\n");
  EXPECT_EQ(canonicalize_body("\r\n \t\r\n\r\n", Canon::Relaxed), "");
  // The well-known body hashes of the empty body.
  EXPECT_EQ(body_hash("", Canon::Simple), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
  EXPECT_EQ(body_hash("", Canon::Relaxed), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(dkimCanonicalization, MissingFinalCrlf) {
  EXPECT_EQ(canonicalize_body("abc", Canon::Simple), "abc\r\n");
  EXPECT_EQ(canonicalize_body("abc", Canon::Relaxed), "abc\r\n");
  EXPECT_EQ(canonicalize_body("abc  \t", Canon::Relaxed), "abc\r\n");
  EXPECT_EQ(canonicalize_body("a\r\n\r\nb", Canon::Simple), "a\r\n\r\nb\r\n");
}

TEST(dkimCanonicalization, TrailingWhitespaceAndEmptyLines) {
  EXPECT_EQ(canonicalize_body("x \r\n\t\r\n  \r\n", Canon::Relaxed), "x\r\n");
  EXPECT_EQ(canonicalize_body("x \r\n\t\r\n  \r\n", Canon::Simple), "x \r\n\t\r\n  \r\n");
  // Inner empty (or blank) lines stay; only those at the end go.
  EXPECT_EQ(canonicalize_body("a\r\n \r\n\r\nb\r\n\r\n", Canon::Relaxed), "a\r\n\r\n\r\nb\r\n");
  EXPECT_EQ(canonicalize_body("a\r\n\r\n\r\nb\r\n\r\n", Canon::Simple), "a\r\n\r\n\r\nb\r\n");
  // A leading empty line is inner.
  EXPECT_EQ(canonicalize_body("\r\nb\r\n", Canon::Simple), "\r\nb\r\n");
  EXPECT_EQ(canonicalize_body("\r\nb\r\n", Canon::Relaxed), "\r\nb\r\n");
}

TEST(dkimCanonicalization, WspRuns) {
  EXPECT_EQ(canonicalize_body("a \t  b\t\tc\r\n", Canon::Relaxed), "a b c\r\n");
  EXPECT_EQ(canonicalize_body("  lead\r\n", Canon::Relaxed), " lead\r\n");  // leading WSP -> one SP
  EXPECT_EQ(canonicalize_header("Subject:  a \t b  \r\n", Canon::Relaxed), "subject:a b\r\n");
  EXPECT_EQ(canonicalize_header("SUBJECT\t :\tx\r\n", Canon::Relaxed), "subject:x\r\n");
  EXPECT_EQ(canonicalize_header("Subject:x\r\n", Canon::Relaxed), "subject:x\r\n");
  EXPECT_EQ(canonicalize_header("Subject:\r\n", Canon::Relaxed), "subject:\r\n");
  EXPECT_EQ(canonicalize_header("Subject:   \r\n", Canon::Relaxed), "subject:\r\n");
}

TEST(dkimCanonicalization, FoldedHeaders) {
  const std::string_view m = "Subject: one\r\n two\r\n\tthree\r\nTo: a@b.example\r\n\r\nbody\r\n";
  const auto parts = split_message(m);
  ASSERT_EQ(parts.headers.size(), 2u);
  EXPECT_EQ(parts.headers[0].field, "Subject: one\r\n two\r\n\tthree\r\n");
  EXPECT_EQ(canonicalize_header(parts.headers[0].field, Canon::Relaxed), "subject:one two three\r\n");
  EXPECT_EQ(canonicalize_header(parts.headers[0].field, Canon::Simple), parts.headers[0].field);
  EXPECT_EQ(parts.body, "body\r\n");
  // A fold right after the colon.
  EXPECT_EQ(canonicalize_header("X-Long:\r\n value\r\n", Canon::Relaxed), "x-long:value\r\n");
}

TEST(dkimCanonicalization, SplitMessageEdges) {
  // No empty line: everything is header, the body is empty.
  auto p = split_message("From: a@b.example\r\nSubject: x\r\n");
  EXPECT_EQ(p.headers.size(), 2u);
  EXPECT_EQ(p.body, "");
  // The last field without CRLF.
  p = split_message("From: a@b.example");
  ASSERT_EQ(p.headers.size(), 1u);
  EXPECT_EQ(canonicalize_header(p.headers[0].field, Canon::Simple), "From: a@b.example\r\n");
  // Empty line right away: no header fields.
  p = split_message("\r\nbody");
  EXPECT_TRUE(p.headers.empty());
  EXPECT_EQ(p.body, "body");
  // A line without colon has no name (never selected for signing).
  p = split_message("garbage\r\nFrom: a@b.example\r\n\r\n");
  ASSERT_EQ(p.headers.size(), 2u);
  EXPECT_EQ(p.headers[0].name, "");
  EXPECT_TRUE(same_name(p.headers[1].name, "FROM"));
}

TEST(dkimCanonicalization, LongBodyEqualsPiecewise) {
  // Bodies larger than the internal 60 KiB buffer come out in several pieces; the result is the
  // same as one piece, and 8-bit bytes pass through untouched.
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "line " + std::to_string(i) + " \xc3\xa9t\xe9  \t end  \r\n";
  body += "\r\n \r\n";
  std::string joined;
  int pieces = 0;
  canonicalize_body(body, Canon::Relaxed, [&](std::string_view p) { joined += p, ++pieces; });
  EXPECT_GT(pieces, 1);
  std::string expected;
  for (int i = 0; i < 5000; ++i) expected += "line " + std::to_string(i) + " \xc3\xa9t\xe9 end\r\n";
  EXPECT_EQ(joined, expected);
}

}  // namespace
}  // namespace ferry::dkim
