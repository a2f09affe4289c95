// Tests for the MIME renderer: golden messages for each shape, the encodings' line limits and
// RFC 2047 encoded-words.
#include <gtest/gtest.h>

#include "mta/smtp/Base64.hpp"
#include "mta/submit/MimeRender.hpp"

using namespace ferry::submit;

namespace {

RenderContext context() {
  RenderContext c;
  c.hostname = "mx.example.com";
  c.now = {1767225600000, 0};  // 2026-01-01T00:00:00Z
  c.unique = "0123456789abcdef.1";
  return c;
}

SubmitRequest base() {
  SubmitRequest r;
  r.from = "app@example.com";
  r.to = {"a@example.net", "b@example.org"};
  return r;
}

TEST(MimeRender, PlainAsciiTextGolden) {
  SubmitRequest r = base();
  r.subject = "Welcome";
  r.text = "Hello,\r\nthanks.";
  r.headers = {{"X-Tag", "welcome"}};
  EXPECT_EQ(render_message(r, context()),
            "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            "Message-ID: <0123456789abcdef.1@mx.example.com>\r\n"
            "From: app@example.com\r\n"
            "To: a@example.net,\r\n b@example.org\r\n"
            "Subject: Welcome\r\n"
            "X-Tag: welcome\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "\r\n"
            "Hello,\r\nthanks.\r\n");
}

TEST(MimeRender, AlternativeGolden) {
  SubmitRequest r = base();
  r.to = {"a@example.net"};
  r.text = "caf\xC3\xA9";
  r.html = "<p>caf\xC3\xA9</p>";
  EXPECT_EQ(render_message(r, context()),
            "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            "Message-ID: <0123456789abcdef.1@mx.example.com>\r\n"
            "From: app@example.com\r\n"
            "To: a@example.net\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"=_ferry_0123456789abcdef.1\"\r\n"
            "\r\n"
            "This is a multi-part message in MIME format.\r\n"
            "--=_ferry_0123456789abcdef.1\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "\r\n"
            "caf=C3=A9\r\n"
            "--=_ferry_0123456789abcdef.1\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "\r\n"
            "<p>caf=C3=A9</p>\r\n"
            "--=_ferry_0123456789abcdef.1--\r\n");
}

TEST(MimeRender, MostlyNonAsciiIsBase64) {
  SubmitRequest r = base();
  r.text = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";  // 日本語
  const std::string m = render_message(r, context());
  EXPECT_NE(m.find("Content-Transfer-Encoding: base64\r\n\r\n5pel5pys6Kqe\r\n"), std::string::npos) << m;
}

TEST(MimeRender, NonAsciiSubjectIsEncodedWords) {
  SubmitRequest r = base();
  r.subject = "R\xC3\xA9sum\xC3\xA9";
  r.text = "x";
  const std::string m = render_message(r, context());
  EXPECT_NE(m.find("Subject: =?UTF-8?B?UsOpc3Vtw6k=?=\r\n"), std::string::npos) << m;
}

TEST(MimeRender, LongSubjectSplitsOnCharacters) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "\xC3\xA9";  // 80 octets of 2-octet characters
  const std::string words = encoded_words(subject);
  std::size_t start = 0;
  int lines = 0;
  while (start < words.size()) {
    std::size_t end = words.find("\r\n", start);
    if (end == std::string::npos) end = words.size();
    std::string word = words.substr(start, end - start);
    if (word.front() == ' ') word.erase(0, 1);
    EXPECT_LE(word.size(), 75u);
    ASSERT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
    auto decoded = ferry::smtp::base64_decode(word.substr(10, word.size() - 12));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->size() % 2, 0u) << "a character was split";
    ++lines;
    start = end + 2;
  }
  EXPECT_EQ(lines, 2);
}

TEST(MimeRender, QuotedPrintableRules) {
  EXPECT_EQ(quoted_printable("a=b"), "a=3Db\r\n");
  EXPECT_EQ(quoted_printable("trailing \r\nspace\t"), "trailing=20\r\nspace=09\r\n");
  EXPECT_EQ(quoted_printable("From me"), "=46rom me\r\n");
  // Encoded lines stay at 76 characters, soft breaks included (RFC 2045 §6.7 (5)).
  const std::string long_line(200, 'x');
  const std::string qp = quoted_printable(long_line + "\xC3\xA9" + long_line);
  std::size_t start = 0;
  std::string decoded;
  while (start < qp.size()) {
    const std::size_t end = qp.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_EQ(qp.find("=C3=A9") != std::string::npos || qp.find("=C3=\r\nA9") != std::string::npos, true);
  EXPECT_EQ(qp.find("=C3=\r\nA9"), std::string::npos) << "an escape is never split";
}

TEST(MimeRender, LongAsciiLinesAreNotSevenBit) {
  SubmitRequest r = base();
  r.text = std::string(1200, 'a');
  const std::string m = render_message(r, context());
  EXPECT_NE(m.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  std::size_t start = 0;
  while (start < m.size()) {
    std::size_t end = m.find("\r\n", start);
    if (end == std::string::npos) end = m.size();
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
}

TEST(MimeRender, Base64Lines) {
  const std::string b = base64_lines(std::string(100, 'x'));
  EXPECT_EQ(b.find("\r\n"), 76u);
  EXPECT_TRUE(b.ends_with("\r\n"));
}

TEST(MimeRender, HtmlOnly) {
  SubmitRequest r = base();
  r.html = "<b>hi</b>";
  const std::string m = render_message(r, context());
  EXPECT_NE(
      m.find(
          "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<b>hi</b>\r\n"),
      std::string::npos);
  EXPECT_EQ(m.find("multipart"), std::string::npos);
}

}  // namespace
