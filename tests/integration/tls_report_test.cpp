// Integration: SMTP TLS Reporting (RFC 8460) end to end. Real deliveries by `ferry serve` to a
// fake MX without STARTTLS and to one whose STARTTLS is broken record their outcomes; dnsmasq
// publishes `_smtp._tls` records whose mailto: domain has a fake MX as its sink; `ferry tlsrpt
// send` triggers the day's reports, and the sink's messages are checked: headers, the <> sender,
// and the attachment through the real gzip and python3's JSON parser.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"
#include "support/FakeMx.hpp"
#include "support/TestCa.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

std::string today_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// A TXT record of one character-string as raw RDATA (dnsmasq's --txt-record splits on commas).
std::string txt(const std::string& name, const std::string& text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string rdata;
  for (unsigned char c : static_cast<char>(text.size()) + text) rdata += {hex[c >> 4], hex[c & 15]};
  return "--dns-rr=" + name + ",16," + rdata;
}

class TlsReport : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three fake MX servers on one port (MX delivery uses one port): plain, broken TLS, the sink.
    for (int tries = 0; tries < 5 && !sink_; ++tries) {
      if (!test::open_mx_pair(plain_, "127.0.0.2", broken_, "127.0.0.3")) continue;
      try {
        sink_ = std::make_unique<test::FakeMx>("127.0.0.4", plain_->port());
      } catch (...) {
      }
    }
    ASSERT_TRUE(sink_);
    broken_->ehlo_extensions = "STARTTLS\r\n250 8BITMIME";
    broken_->broken_starttls = true;
    start_https_sink();
    const std::string https = "https://reports-web.test:" + std::to_string(https_port_) + "/tlsrpt";
    start_tls_mx();
    dns_ = std::make_unique<test::DnsServer>(std::vector<std::string>{
        "--host-record=reports-web.test,127.0.0.5",
        "--mx-host=tls.test,mx.tls.test,10",
        "--host-record=mx.tls.test,127.0.0.6",
        txt("_smtp._tls.tls.test", "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"),
        "--mx-host=plain.test,mx.plain.test,10",
        "--host-record=mx.plain.test,127.0.0.2",
        "--mx-host=broken.test,mx.broken.test,10",
        "--host-record=mx.broken.test,127.0.0.3",
        "--mx-host=reports.test,mx.reports.test,10",
        "--host-record=mx.reports.test,127.0.0.4",
        txt("_smtp._tls.plain.test", "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"),
        txt("_smtp._tls.broken.test", "v=TLSRPTv1;rua=" + https + ",mailto:tls@reports.test"),
    });
    const std::string cfg = "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                            dir_.file("q") +
                            "\"\nmax_size = \"64MiB\"\n"
                            "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                            "[delivery]\nport = " +
                            std::to_string(plain_->port()) +
                            "\nconnect_timeout = \"2s\"\n"
                            "[dns]\nservers = [\"" +
                            dns_->address() +
                            "\"]\n"
                            "[retry]\nfirst = \"1s\"\nmax_interval = \"1s\"\n"
                            "[tls_report]\nenabled = true\norganization = \"Ferry Test\"\n"
                            "contact = \"mailto:postmaster@ferry.test\"\n";
    dir_.write("ferry.toml", cfg);
    serve_ = std::make_unique<test::Background>(
        // The https sink's certificate is from a private CA: OpenSSL's default store is pointed at it.
        std::vector<std::string>{"/usr/bin/env",
                                 "SSL_CERT_FILE=" + dir_.file(trust_sink_ ? "ca.pem" : "none.pem"),
                                 FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log"));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    port_ = test::port_from_log(serve_->output());
    ASSERT_GT(port_, 0);
  }

  // A TLS-capable MX for tls.test: a second `ferry serve` on 127.0.0.6 at the delivery port,
  // presenting the https sink's certificate (opportunistic TLS does not check the name).
  void start_tls_mx() {
    tls_dir_.write("ferry.toml", "hostname = \"mx.tls.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                                     tls_dir_.file("q") +
                                     "\"\nmax_size = \"64MiB\"\n"
                                     "[[listen]]\naddress = \"127.0.0.6\"\nport = " +
                                     std::to_string(plain_->port()) +
                                     "\nmode = \"relay\"\n"
                                     "[tls]\ncertificate = \"" +
                                     dir_.file("web.pem") + "\"\nkey = \"" + dir_.file("web.key") +
                                     "\"\n[metrics]\nlisten = \"\"\n[retry]\nfirst = \"1h\"\n"
                                     "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n");
    tls_mx_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", tls_dir_.file("ferry.toml")},
        tls_dir_.file("log"));
    ASSERT_TRUE(tls_mx_->wait_for_output("ready: ")) << tls_mx_->output();
  }

  void TearDown() override {
    if (tls_mx_) tls_mx_->stop(SIGTERM);
    if (serve_) serve_->stop(SIGTERM);
    if (https_) https_->stop(SIGTERM);
  }

  // An HTTPS server on 127.0.0.5 (python3, a certificate for reports-web.test from a private CA
  // made now) that stores each POSTed body in post.bin and prints "POST <path> <type> <size>".
  void start_https_sink() {
    const std::string d = dir_.file("");
    ASSERT_TRUE(test::make_test_ca(d, "TlsReportTestCA"));
    ASSERT_TRUE(test::make_host_certificate(d, "reports-web.test", "web"));
    dir_.write("sink.py",
               "import http.server, os, ssl, sys\n"
               "class H(http.server.BaseHTTPRequestHandler):\n"
               "  def do_POST(self):\n"
               "    data = self.rfile.read(min(int(self.headers['Content-Length']), 1 << 20))\n"
               "    open(sys.argv[3] + '.tmp', 'wb').write(data)\n"
               "    os.rename(sys.argv[3] + '.tmp', sys.argv[3])\n"
               "    self.send_response(200)\n"
               "    self.end_headers()\n"
               "    print('POST', self.path, self.headers['Content-Type'], len(data), flush=True)\n"
               "  def log_message(self, *a): pass\n"
               "s = http.server.HTTPServer(('127.0.0.5', 0), H)\n"
               "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
               "c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
               "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
               "print('port', s.server_address[1], flush=True)\n"
               "s.serve_forever()\n");
    https_ = std::make_unique<test::Background>(
        std::vector<std::string>{"/usr/bin/python3", dir_.file("sink.py"), dir_.file("web.pem"),
                                 dir_.file("web.key"), dir_.file("post.bin")},
        dir_.file("https.log"));
    ASSERT_TRUE(https_->wait_for_output("port ")) << https_->output();
    const std::string out = https_->output();
    https_port_ = std::stoi(out.substr(out.find("port ") + 5));
  }

  // The report mail's attachment decoded (python3 base64), decompressed by the real gzip, and
  // its fields printed by python3 after json.tool accepted it.
  std::string report_fields(const std::string& mail) {
    dir_.write("mail.eml", mail);
    const auto decode =
        test::run({"/usr/bin/python3", "-c",
                   "import email,sys\n"
                   "m=email.message_from_binary_file(open(sys.argv[1],'rb'))\n"
                   "p=[x for x in m.walk() if x.get_content_type()=='application/tlsrpt+gzip'][0]\n"
                   "open(sys.argv[2],'wb').write(p.get_payload(decode=True))\n"
                   "print(p.get_filename())\n",
                   dir_.file("mail.eml"), dir_.file("r.json.gz")});
    EXPECT_EQ(decode.exit_code, 0) << decode.err;
    const auto json =
        test::run({"/bin/sh", "-c", "gzip -t \"$1\" && gzip -dc \"$1\" | python3 -m json.tool > \"$2\"", "sh",
                   dir_.file("r.json.gz"), dir_.file("r.json")});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    const auto fields = test::run(
        {"/usr/bin/python3", "-c",
         "import json,sys\n"
         "r=json.load(open(sys.argv[1]))\n"
         "print(r['organization-name'], r['contact-info'], r['report-id'])\n"
         "print(r['date-range']['start-datetime'], r['date-range']['end-datetime'])\n"
         "for p in r['policies']:\n"
         "  q=p['policy']; s=p['summary']\n"
         "  print(q['policy-type'], q['policy-string'], q['policy-domain'],\n"
         "        s['total-successful-session-count'], s['total-failure-session-count'])\n"
         "  for d in p.get('failure-details', []):\n"
         "    print(d['result-type'], d['sending-mta-ip'], d['receiving-mx-hostname'], d['receiving-ip'],\n"
         "          d['failed-session-count'])\n",
         dir_.file("r.json")});
    EXPECT_EQ(fields.exit_code, 0) << fields.err;
    return decode.out + fields.out;
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> plain_, broken_, sink_;
  std::unique_ptr<test::DnsServer> dns_;
  test::TempDir tls_dir_;
  std::unique_ptr<test::Background> serve_, https_, tls_mx_;
  int port_ = 0;
  int https_port_ = 0;
  bool trust_sink_ = true;  // whether the daemon trusts the https sink's private CA
};

TEST_F(TlsReport, ADaysOutcomesArriveAtTheRuaAsGzipJsonReports) {
  ASSERT_EQ(test::send_mail(port_, "a@sender.test", {"x@plain.test"}, "Subject: p\n\nx\n"), "ok");
  ASSERT_TRUE(plain_->wait_messages(1)) << serve_->output();
  ASSERT_EQ(test::send_mail(port_, "a@sender.test", {"y@broken.test"}, "Subject: b\n\nx\n"), "ok");
  ASSERT_TRUE(broken_->wait_messages(1)) << serve_->output();  // in plaintext after the failed handshake
  ASSERT_EQ(test::send_mail(port_, "a@sender.test", {"z@tls.test"}, "Subject: t\n\nx\n"), "ok");
  ASSERT_TRUE(serve_->wait_for_output("to=<z@tls.test>, relay=mx.tls.test[127.0.0.6]")) << serve_->output();
  EXPECT_NE(serve_->output().find("tls=TLSv1.3"), std::string::npos) << serve_->output();

  const std::string day = today_utc();
  const auto sent =
      test::run({FERRY_BINARY, "tlsrpt", "--config", dir_.file("ferry.toml"), "send", "--day", day});
  ASSERT_EQ(sent.exit_code, 0) << sent.err << serve_->output();
  ASSERT_TRUE(sink_->wait_messages(3, 20s)) << serve_->output();
  ASSERT_TRUE(https_->wait_for_output("POST /tlsrpt application/tlsrpt+gzip ", 20000)) << serve_->output();
  EXPECT_TRUE(serve_->wait_for_output("POST to https://reports-web.test:" + std::to_string(https_port_) +
                                      "/tlsrpt: HTTP 200"))
      << serve_->output();
  const auto posted = test::run({"/bin/sh", "-c", "gzip -t \"$1\" && gzip -dc \"$1\" | python3 -m json.tool",
                                 "sh", dir_.file("post.bin")});
  ASSERT_EQ(posted.exit_code, 0) << posted.err;
  EXPECT_NE(posted.out.find("\"policy-domain\": \"broken.test\""), std::string::npos) << posted.out;
  EXPECT_NE(posted.out.find("\"result-type\": \"validation-failure\""), std::string::npos) << posted.out;

  const auto messages = sink_->messages();
  auto report_for = [&](const std::string& domain) {
    for (const auto& m : messages)
      if (m.data.find("TLS-Report-Domain: " + domain + "\r\n") != std::string::npos) return m;
    ADD_FAILURE() << "no report for " << domain;
    return test::ReceivedMessage{};
  };
  const auto broken = report_for("broken.test");
  const auto plain = report_for("plain.test");
  const auto secured = report_for("tls.test");
  EXPECT_EQ(secured.rcpt_to, std::vector<std::string>{"tlsrpt@reports.test"});
  const std::string secured_fields = report_fields(secured.data);
  EXPECT_NE(secured_fields.find("no-policy-found [] tls.test 1 0\n"), std::string::npos) << secured_fields;
  EXPECT_EQ(secured_fields.find("result-type"), std::string::npos) << secured_fields;
  EXPECT_EQ(plain.mail_from, "");  // <>: nothing can bounce a report
  EXPECT_EQ(plain.rcpt_to, std::vector<std::string>{"tlsrpt@reports.test"});
  EXPECT_EQ(broken.rcpt_to, std::vector<std::string>{"tls@reports.test"});
  const std::string& d = plain.data;
  const std::string id = day + ".plain.test@ferry.test";
  EXPECT_NE(d.find("Subject: Report Domain: plain.test Submitter: ferry.test Report-ID: <" + id + ">\r\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("TLS-Report-Domain: plain.test\r\n"), std::string::npos);
  EXPECT_NE(d.find("TLS-Report-Submitter: ferry.test\r\n"), std::string::npos);
  EXPECT_NE(d.find("TLS-Required: No\r\n"), std::string::npos);
  EXPECT_NE(d.find("From: <noreply-smtp-tls-reporting@ferry.test>\r\n"), std::string::npos);
  EXPECT_NE(d.find("Content-Type: multipart/report; report-type=\"tlsrpt\";"), std::string::npos);

  const std::string start = day + "T00:00:00Z " + day + "T23:59:59Z\n";
  EXPECT_EQ(
      report_fields(plain.data), "ferry.test!plain.test!" + std::string() +
                                     [&] {
                                       // the file name's times: the day's first and last second since the
                                       // epoch
                                       std::tm tm{};
                                       strptime(day.c_str(), "%Y-%m-%d", &tm);
                                       const long long s = static_cast<long long>(timegm(&tm));
                                       return std::to_string(s) + "!" + std::to_string(s + 86399);
                                     }() +
                                     "!" + id + ".json.gz\n" + "Ferry Test mailto:postmaster@ferry.test " +
                                     id + "\n" + start +
                                     "no-policy-found [] plain.test 0 1\n"
                                     "starttls-not-supported 127.0.0.1 mx.plain.test 127.0.0.2 1\n");
  const std::string broken_fields = report_fields(broken.data);
  EXPECT_NE(broken_fields.find("no-policy-found [] broken.test 0 1\n"
                               "validation-failure 127.0.0.1 mx.broken.test 127.0.0.3 1\n"),
            std::string::npos)
      << broken_fields;

  // The day's counters went with the reports: asking again sends nothing new.
  ASSERT_EQ(test::run({FERRY_BINARY, "tlsrpt", "--config", dir_.file("ferry.toml"), "send", "--day", day})
                .exit_code,
            0);
  EXPECT_TRUE(serve_->wait_for_output("report(s) queued for 1 domain(s)")) << serve_->output();
  EXPECT_EQ(sink_->messages().size(), 3u);
}

// A report goes by https only to a server whose certificate verifies: untrusted, nothing is sent
// (the mailto: copy still goes).
class TlsReportUntrusted : public TlsReport {
 protected:
  TlsReportUntrusted() { trust_sink_ = false; }
};

TEST_F(TlsReportUntrusted, HttpsReportNeedsAVerifiedServer) {
  ASSERT_EQ(test::send_mail(port_, "a@sender.test", {"y@broken.test"}, "Subject: b\n\nx\n"), "ok");
  ASSERT_TRUE(broken_->wait_messages(1)) << serve_->output();
  const auto sent =
      test::run({FERRY_BINARY, "tlsrpt", "--config", dir_.file("ferry.toml"), "send", "--day", today_utc()});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  ASSERT_TRUE(serve_->wait_for_output("failed: POST to reports-web.test: TLS handshake", 20000))
      << serve_->output();
  ASSERT_TRUE(sink_->wait_messages(1, 20s)) << serve_->output();
  EXPECT_EQ(https_->output().find("POST"), std::string::npos) << https_->output();
}

TEST_F(TlsReport, TheCliRefusesWhileDisabled) {
  dir_.write("off.toml",
             "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir_.file("q") + "\"\n");
  const auto r = test::run({FERRY_BINARY, "tlsrpt", "--config", dir_.file("off.toml"), "send"});
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("[tls_report] enabled is false"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ferry
