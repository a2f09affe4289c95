// ReceivedHeader: golden trace headers (RFC 5321 §4.4, RFC 3848, RFC 6531 §3.7.3, RFC 5322 §3.3).
#include <gtest/gtest.h>

#include "mta/smtp/ReceivedHeader.hpp"

using namespace ferry::smtp;

TEST(smtp_Rfc5322Date, Formats) {
  EXPECT_EQ(format_rfc5322_date({0, 0}), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date({1704067200000, 0}), "Mon, 1 Jan 2024 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date({1709210096789, 60}), "Thu, 29 Feb 2024 13:34:56 +0100");
  EXPECT_EQ(format_rfc5322_date({1704067200000, -300}), "Sun, 31 Dec 2023 19:00:00 -0500");
  EXPECT_EQ(format_rfc5322_date({1704067200000, 330}), "Mon, 1 Jan 2024 05:30:00 +0530");
  EXPECT_EQ(format_rfc5322_date({-1000, 0}), "Wed, 31 Dec 1969 23:59:59 +0000");
}

TEST(smtp_ReceivedProtocol, Rfc3848AndRfc6531Names) {
  EXPECT_EQ(received_protocol(false, false, false, false), "SMTP");
  EXPECT_EQ(received_protocol(true, false, false, false), "ESMTP");
  EXPECT_EQ(received_protocol(true, true, false, false), "ESMTPS");
  EXPECT_EQ(received_protocol(true, false, true, false), "ESMTPA");
  EXPECT_EQ(received_protocol(true, true, true, false), "ESMTPSA");
  EXPECT_EQ(received_protocol(true, false, false, true), "UTF8SMTP");
  EXPECT_EQ(received_protocol(true, true, false, true), "UTF8SMTPS");
  EXPECT_EQ(received_protocol(true, true, true, true), "UTF8SMTPSA");
}

TEST(smtp_ReceivedHeader, GoldenWithTlsAndOneRecipient) {
  ReceivedInfo i;
  i.helo = "client.example";
  i.client_name = "mail.client.example";
  i.client_ip = "192.0.2.10";
  i.hostname = "mx.example.org";
  i.protocol = "ESMTPS";
  i.queue_id = ferry::QueueId{0x0123456789ABCDEF};
  i.tls_version = "TLSv1.3";
  i.tls_cipher = "TLS_AES_256_GCM_SHA384";
  i.recipient = "user@example.org";
  i.time = {1704067200000, 0};
  EXPECT_EQ(build_received_header(i),
            "Received: from client.example (mail.client.example [192.0.2.10])\r\n"
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            "\tby mx.example.org (Ferry) with ESMTPS id 0123456789ABCDEF\r\n"
            "\tfor <user@example.org>; Mon, 1 Jan 2024 00:00:00 +0000\r\n");
}

TEST(smtp_ReceivedHeader, GoldenPlainManyRecipientsNoRdns) {
  ReceivedInfo i;
  i.helo = "[127.0.0.1]";
  i.client_ip = "127.0.0.1";
  i.hostname = "mx.example.org";
  i.protocol = "ESMTP";
  i.queue_id = ferry::QueueId{1};
  i.time = {1704067200000, 0};
  EXPECT_EQ(build_received_header(i),
            "Received: from [127.0.0.1] (127.0.0.1 [127.0.0.1])\r\n"
            "\tby mx.example.org (Ferry) with ESMTP id 0000000000000001;\r\n"
            "\tMon, 1 Jan 2024 00:00:00 +0000\r\n");
}

TEST(smtp_ReceivedHeader, FoldsTheDateWhenTheLineIsLong) {
  ReceivedInfo i;
  i.helo = "h";
  i.client_ip = "2001:db8::1";
  i.hostname = "a-rather-long-host-name.mail.example.org";
  i.protocol = "UTF8SMTPSA";
  i.queue_id = ferry::QueueId{0x0123456789ABCDEF};
  i.time = {1704067200000, 0};
  const std::string h = build_received_header(i);
  EXPECT_EQ(h,
            "Received: from h (2001:db8::1 [2001:db8::1])\r\n"
            "\tby a-rather-long-host-name.mail.example.org (Ferry) with UTF8SMTPSA id 0123456789ABCDEF;\r\n"
            "\tMon, 1 Jan 2024 00:00:00 +0000\r\n");
}

// Whatever the HELO name holds, it never ends the header field (no client-written fields).
TEST(smtp_ReceivedHeader, HeloNeverBreaksTheHeaderLine) {
  ReceivedInfo i;
  i.helo = "evil\r\nX-Injected: yes\r\n\xFF";
  i.client_ip = "192.0.2.1";
  i.hostname = "mx.example.org";
  i.protocol = "ESMTP";
  i.queue_id = ferry::QueueId{1};
  i.recipient = "a\rb@example.org";
  i.time = {1704067200000, 0};
  const std::string h = build_received_header(i);
  EXPECT_EQ(h.find("\r\nX-Injected"), std::string::npos) << h;
  EXPECT_EQ(h.substr(0, h.find("\r\n")),
            "Received: from evil\\x0D\\x0AX-Injected: yes\\x0D\\x0A\xEF\xBF\xBD (192.0.2.1 [192.0.2.1])");
  EXPECT_NE(h.find("for <a\\x0Db@example.org>"), std::string::npos) << h;
}
