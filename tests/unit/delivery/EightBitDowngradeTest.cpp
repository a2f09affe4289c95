// EightBitDowngrade: 8-bit text becomes quoted-printable (RFC 2045 §6.7) that decodes back to the
// same octets, within 76-octet lines; multipart structure and 7-bit parts are kept byte for byte;
// what cannot be converted (8-bit headers, 8-bit non-text parts) is refused.
#include "mta/delivery/EightBitDowngrade.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ferry::delivery;

namespace {

// RFC 2045 §6.7 decoding: "=" CRLF is a soft break, =XX an octet.
std::string qp_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out += s[i];
      continue;
    }
    if (s.substr(i + 1, 2) == "\r\n") {
      i += 2;
      continue;
    }
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

bool all_7bit(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

std::size_t longest_line(std::string_view s) {
  std::size_t longest = 0, pos = 0;
  while (pos <= s.size()) {
    std::size_t nl = s.find("\r\n", pos);
    if (nl == std::string_view::npos) nl = s.size();
    longest = std::max(longest, nl - pos);
    pos = nl + 2;
  }
  return longest;
}

std::string body_of(const std::string& m) { return m.substr(m.find("\r\n\r\n") + 4); }

const std::string kText =
    "Gr\xC3\xBC\xC3\x9F"
    "e aus K\xC3\xB6ln = 100 \xE2\x82\xAC \r\n"
    "trailing space \r\n.a dot line\r\n" +
    std::string(200, 'x') + "\xC3\xA9\r\n";

}  // namespace

TEST(eightBitDowngrade, QuotedPrintableRules) {
  EXPECT_EQ(quoted_printable("caf\xC3\xA9 = ok \r\nnext\tline\t\r\n"),
            "caf=C3=A9 =3D ok=20\r\nnext\tline=09\r\n");
  const std::string long_line = quoted_printable(std::string(300, '\xE9') + "\r\n");
  EXPECT_LE(longest_line(long_line), 76u);
  EXPECT_EQ(qp_decode(long_line), std::string(300, '\xE9') + "\r\n");
  EXPECT_EQ(qp_decode(quoted_printable(kText)), kText);
  EXPECT_LE(longest_line(quoted_printable(kText)), 76u);
  EXPECT_TRUE(all_7bit(quoted_printable(kText)));
}

TEST(eightBitDowngrade, SinglePartTextBecomesQuotedPrintable) {
  const std::string m =
      "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\nSubject: hi\r\n\r\n" +
      kText;
  const Downgrade d = downgrade_8bit(m);
  ASSERT_TRUE(d.ok()) << d.detail;
  EXPECT_TRUE(all_7bit(d.message));
  EXPECT_EQ(
      d.message.substr(0, d.message.find("\r\n\r\n") + 2),
      "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nSubject: hi\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n");
  EXPECT_EQ(qp_decode(body_of(d.message)), kText);
  EXPECT_LE(longest_line(body_of(d.message)), 76u);
}

TEST(eightBitDowngrade, MessageWithoutMimeHeadersGetsThem) {
  const Downgrade d = downgrade_8bit("Subject: plain\r\n\r\n" + kText);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.message.substr(0, d.message.find("\r\n\r\n") + 4),
            "Subject: plain\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
  EXPECT_EQ(qp_decode(body_of(d.message)), kText);
}

TEST(eightBitDowngrade, SevenBitMessageIsUnchanged) {
  const std::string m = "Subject: x\r\n\r\nonly ascii\r\n";
  EXPECT_EQ(downgrade_8bit(m).message, m);
}

TEST(eightBitDowngrade, MultipartTextPartsAreConvertedOthersKept) {
  const std::string image =
      "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n";
  const std::string ascii = "Content-Type: text/plain\r\n\r\nplain ascii part\r\n";
  const std::string m =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_outer\"\r\n\r\n"
      "This is a MIME message.\r\n"
      "--=_outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
      "--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
      kText + "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + kText +
      "</p>\r\n"
      "--inner--\r\n"
      "--=_outer\r\n" +
      image + "--=_outer\r\n" + ascii + "--=_outer--\r\nepilogue\r\n";
  const Downgrade d = downgrade_8bit(m);
  ASSERT_TRUE(d.ok()) << d.detail;
  EXPECT_TRUE(all_7bit(d.message));
  // The 7-bit parts and the structure are kept byte for byte.
  EXPECT_NE(d.message.find("--=_outer\r\n" + image + "--=_outer\r\n" + ascii + "--=_outer--\r\nepilogue\r\n"),
            std::string::npos)
      << d.message;
  EXPECT_EQ(d.message.substr(0, d.message.find("This is")), m.substr(0, m.find("This is")));
  // Each text part decodes back to its original text.
  const std::string plain_head =
      "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  const auto p = d.message.find(plain_head);
  ASSERT_NE(p, std::string::npos) << d.message;
  const auto p_end = d.message.find("\r\n--inner\r\n", p);
  EXPECT_EQ(qp_decode(d.message.substr(p + plain_head.size(), p_end + 2 - p - plain_head.size())), kText);
  const std::string html_head =
      "--inner\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  const auto h = d.message.find(html_head);
  ASSERT_NE(h, std::string::npos) << d.message;
  const auto h_end = d.message.find("\r\n--inner--\r\n", h);
  EXPECT_EQ(qp_decode(d.message.substr(h + html_head.size(), h_end + 2 - h - html_head.size())),
            "<p>" + kText + "</p>\r\n");
  EXPECT_LE(longest_line(d.message), 76u);
}

TEST(eightBitDowngrade, AttachedMessageIsConvertedInside) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\nSubject: inner\r\n\r\n" +
      kText + "\r\n--b--\r\n";
  const Downgrade d = downgrade_8bit(m);
  ASSERT_TRUE(d.ok()) << d.detail;
  EXPECT_TRUE(all_7bit(d.message));
  EXPECT_NE(d.message.find("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                           "Subject: inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"),
            std::string::npos)
      << d.message;
}

TEST(eightBitDowngrade, WhatCannotBeConvertedIsRefused) {
  EXPECT_EQ(downgrade_8bit("Subject: Gr\xC3\xBC\xC3\x9F"
                           "e\r\n\r\n" +
                           kText)
                .failure,
            DowngradeFailure::EightBitHeader);
  const std::string binary =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + kText +
      "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n\x89PNG\xFF\xFE\r\n--b--\r\n";
  const Downgrade d = downgrade_8bit(binary);
  EXPECT_EQ(d.failure, DowngradeFailure::NotText);
  EXPECT_EQ(d.detail, "8-bit application/octet-stream part");
  EXPECT_EQ(downgrade_8bit("Content-Type: multipart/mixed; boundary=missing\r\n\r\n" + kText).failure,
            DowngradeFailure::Malformed);
  EXPECT_EQ(downgrade_8bit("Content-Transfer-Encoding: base64\r\n\r\n" + kText).failure,
            DowngradeFailure::Malformed);
  EXPECT_EQ(downgrade_8bit("Content-Type: text/plain\r\n\r\n\xE9\r\n").failure, DowngradeFailure::None);
}
