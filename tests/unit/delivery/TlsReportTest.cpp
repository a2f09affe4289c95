// TlsReport / TlsReportMail: aggregation per day and policy, the RFC 8460 §4.4 JSON, the §3
// record parser, the §5.3 mail; the gzip attachment is checked with the real gzip and python3.
#include "mta/delivery/TlsReport.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mta/delivery/TlsReportMail.hpp"

namespace ferry::delivery {
namespace {

constexpr TimeMs kDec7 = 1796601600000LL;  // 2026-12-07T00:00:00Z

TlsPolicyRef no_policy(std::string domain) {
  return TlsPolicyRef{TlsPolicyType::NoPolicyFound, {}, domain, {}};
}

TlsOutcome success(std::string domain, TimeMs at) { return TlsOutcome{no_policy(domain), std::nullopt, at}; }

TlsOutcome failure(std::string domain, TlsResultType type, std::string ip, TimeMs at) {
  return TlsOutcome{no_policy(domain), TlsFailureDetail{type, "127.0.0.1", "mx1." + domain, ip}, at};
}

TEST(TlsReport, DaysAreUtcAndRoundTrip) {
  EXPECT_EQ(day_text(utc_day(kDec7)), "2026-12-07");
  EXPECT_EQ(day_text(utc_day(kDec7 + 86'399'999)), "2026-12-07");
  EXPECT_EQ(day_text(utc_day(kDec7 + 86'400'000)), "2026-12-08");
  EXPECT_EQ(parse_day("2026-12-07"), utc_day(kDec7));
  EXPECT_EQ(parse_day("2026-02-30"), std::nullopt);
  EXPECT_EQ(parse_day("2026-1-07"), std::nullopt);
  EXPECT_EQ(parse_day("+026-12-07"), std::nullopt);
}

TEST(TlsReport, BookCountsPerDayAndPolicy) {
  TlsReportBook book;
  book.add(success("a.test", kDec7 + 1));
  book.add(success("a.test", kDec7 + 2));
  book.add(failure("a.test", TlsResultType::StarttlsNotSupported, "127.0.0.2", kDec7 + 3));
  book.add(failure("a.test", TlsResultType::StarttlsNotSupported, "127.0.0.2", kDec7 + 4));
  book.add(failure("a.test", TlsResultType::ValidationFailure, "127.0.0.3", kDec7 + 5));
  book.add(success("a.test", kDec7 + 86'400'000));  // the next day
  book.add(success("b.test", kDec7));
  auto entries = book.take();
  EXPECT_TRUE(book.empty());
  ASSERT_EQ(entries.size(), 3u);
  const TlsCounts& a = entries.at({utc_day(kDec7), no_policy("a.test")});
  EXPECT_EQ(a.successes, 2u);
  EXPECT_EQ(a.failures, 3u);
  ASSERT_EQ(a.details.size(), 2u);
  EXPECT_EQ(a.details.begin()->first.result, TlsResultType::StarttlsNotSupported);
  EXPECT_EQ(a.details.begin()->second, 2u);
  EXPECT_EQ((entries.at({utc_day(kDec7) + 1, no_policy("a.test")}).successes), 1u);
}

TEST(TlsReport, DetailRowsAreBoundedButFailuresAllCount) {
  TlsCounts c;
  for (int i = 0; i < 150; ++i)
    c.add_failure({TlsResultType::ValidationFailure, "", "mx", "10.0.0." + std::to_string(i)}, 1);
  EXPECT_EQ(c.failures, 150u);
  EXPECT_EQ(c.details.size(), TlsCounts::kMaxDetails);
  TlsCounts sum;
  sum.merge(c);
  sum.merge(c);
  EXPECT_EQ(sum.failures, 300u);
  EXPECT_EQ(sum.details.size(), TlsCounts::kMaxDetails);
}

TEST(TlsReport, PolicyAndDetailEncodingsRoundTrip) {
  const TlsPolicyRef sts{TlsPolicyType::Sts, {"version: STSv1", "mode: enforce"}, "a.test", {"*.a.test"}};
  EXPECT_EQ(decode_policy(encode_policy(sts)), sts);
  EXPECT_EQ(decode_policy(encode_policy(no_policy("b.test"))), no_policy("b.test"));
  const TlsFailureDetail d{TlsResultType::DaneRequired, "192.0.2.1", "mx:1:x", "192.0.2.2"};
  EXPECT_EQ(decode_detail(encode_detail(d)), d);
  EXPECT_EQ(decode_policy("junk"), std::nullopt);
  EXPECT_EQ(decode_policy(encode_policy(sts) + "x"), std::nullopt);
  EXPECT_EQ(decode_detail("9999999:x"), std::nullopt);
}

TEST(TlsReport, ResultTypeNamesAreRfc8460s) {
  EXPECT_EQ(to_string(TlsResultType::StarttlsNotSupported), "starttls-not-supported");
  EXPECT_EQ(to_string(TlsResultType::StsWebpkiInvalid), "sts-webpki-invalid");
  EXPECT_EQ(to_string(TlsResultType::CertificateNotTrusted), "certificate-not-trusted");
  EXPECT_EQ(parse_tls_result_type("tlsa-invalid"), TlsResultType::TlsaInvalid);
  EXPECT_EQ(to_string(TlsPolicyType::NoPolicyFound), "no-policy-found");
}

TEST(TlsReport, JsonHasTheRfc8460Fields) {
  TlsCounts c;
  c.successes = 2;
  c.add_failure({TlsResultType::StarttlsNotSupported, "127.0.0.1", "mx1.a.test", "127.0.0.2"}, 1);
  const std::string json = compose_tls_report_json(
      {"Ferry \"Org\"", "mailto:tls@ferry.test", "rid-1", utc_day(kDec7)}, {{no_policy("a.test"), c}});
  EXPECT_EQ(json,
            "{\"organization-name\":\"Ferry \\\"Org\\\"\",\"date-range\":{\"start-datetime\":"
            "\"2026-12-07T00:00:00Z\",\"end-datetime\":\"2026-12-07T23:59:59Z\"},\"contact-info\":"
            "\"mailto:tls@ferry.test\",\"report-id\":\"rid-1\",\"policies\":[{\"policy\":{\"policy-type\":"
            "\"no-policy-found\",\"policy-string\":[],\"policy-domain\":\"a.test\"},\"summary\":{"
            "\"total-successful-session-count\":2,\"total-failure-session-count\":1},\"failure-details\":"
            "[{\"result-type\":\"starttls-not-supported\",\"sending-mta-ip\":\"127.0.0.1\","
            "\"receiving-mx-hostname\":\"mx1.a.test\",\"receiving-ip\":\"127.0.0.2\","
            "\"failed-session-count\":1}]}]}");
}

struct RecordCase {
  std::string record;
  std::vector<std::string> targets;  // empty: an error
};

TEST(TlsReport, RecordParserTable) {
  const RecordCase cases[] = {
      {"v=TLSRPTv1; rua=mailto:reports@a.test", {"reports@a.test"}},
      {"v=TLSRPTv1;rua=mailto:r@a.test,https://rep.a.test/tlsrpt", {"r@a.test", "https://rep.a.test/tlsrpt"}},
      {"v=TLSRPTv1 ; rua=mailto:r%40x@a.test , ftp://x.test ;", {"r@x@a.test"}},
      {"v=TLSRPTv1; rua=mailto:r@a.test?subject=x; ext=1", {"r@a.test"}},
      {"v=TLSRPTv1; rua=ftp://a.test", {}},
      {"v=TLSRPTv1", {}},
      {"v=TLSRPTv2; rua=mailto:r@a.test", {}},
      {"rua=mailto:r@a.test; v=TLSRPTv1", {}},
      {"v=TLSRPTv1; rua=mailto:a@b.test; rua=mailto:c@d.test", {}},
      {"v=TLSRPTv1; rua=mailto:<evil>@a.test", {}},
      {"v=TLSRPTv1; rua=mailto:noat", {}},
  };
  for (const auto& c : cases) {
    auto r = parse_tlsrpt_record(c.record);
    SCOPED_TRACE(c.record);
    if (c.targets.empty()) {
      EXPECT_FALSE(r.ok());
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error();
    std::vector<std::string> got;
    for (const auto& u : *r) got.push_back(u.target);
    EXPECT_EQ(got, c.targets);
  }
  EXPECT_FALSE(select_tlsrpt_record({"v=spf1 -all"}).ok());
  EXPECT_FALSE(
      select_tlsrpt_record({"v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"}).ok());
  EXPECT_TRUE(select_tlsrpt_record({"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@b.test"}).ok());
}

TEST(TlsReport, Crc32AndGzipContainer) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
  const std::string z = gzip_stored("");
  EXPECT_EQ(z.size(), 10u + 5u + 8u);
  EXPECT_EQ(base64_lines("foobar"), "Zm9vYmFy\r\n");
  EXPECT_EQ(base64_lines("fo"), "Zm8=\r\n");
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The real gzip decompresses the container (also a large one: several stored blocks) and
// python3's JSON parser reads the report back with every required field.
TEST(TlsReport, RealGzipAndJsonToolReadTheAttachment) {
  const auto dir = std::filesystem::temp_directory_path() / ("tlsrpt-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string big(200000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::ofstream(dir / "big.gz", std::ios::binary) << gzip_stored(big);
  EXPECT_EQ(run("gzip -t " + (dir / "big.gz").string() + " && echo ok"), "ok\n");  // CRC and size
  EXPECT_EQ(run("gzip -dc " + (dir / "big.gz").string()), big);

  TlsCounts c;
  c.successes = 1;
  c.add_failure({TlsResultType::CertificateExpired, "127.0.0.1", "mx1.a.test", "127.0.0.2"}, 4);
  const std::string json = compose_tls_report_json(
      {"Ferry", "mailto:tls@ferry.test", "rid-2", utc_day(kDec7)}, {{no_policy("a.test"), c}});
  std::ofstream(dir / "r.json.gz", std::ios::binary) << gzip_stored(json);
  const std::string script =
      "import json,sys; r=json.load(sys.stdin); p=r['policies'][0]; "
      "print(r['organization-name'], r['date-range']['start-datetime'], r['date-range']['end-datetime'], "
      "r['contact-info'], r['report-id'], p['policy']['policy-type'], p['policy']['policy-domain'], "
      "p['summary']['total-successful-session-count'], p['summary']['total-failure-session-count'], "
      "p['failure-details'][0]['result-type'], p['failure-details'][0]['failed-session-count'])";
  EXPECT_EQ(run("gzip -dc " + (dir / "r.json.gz").string() + " | python3 -m json.tool | python3 -c \"" +
                script + "\""),
            "Ferry 2026-12-07T00:00:00Z 2026-12-07T23:59:59Z mailto:tls@ferry.test rid-2 no-policy-found "
            "a.test 1 4 certificate-expired 4\n");
  std::filesystem::remove_all(dir);
}

TEST(TlsReport, MailHasTheRfc8460Headers) {
  TlsReportMail m{"tlsrpt@ferry.test", "reports@a.test", "ferry.test", "a.test", "rid-3",
                  utc_day(kDec7),      "Ferry",          "{}"};
  const std::string mail = compose_tls_report_mail(m, kDec7 + 86'400'000 + 3'723'000);
  EXPECT_NE(mail.find("Subject: Report Domain: a.test Submitter: ferry.test Report-ID: <rid-3>\r\n"),
            std::string::npos);
  EXPECT_NE(mail.find("TLS-Report-Domain: a.test\r\n"), std::string::npos);
  EXPECT_NE(mail.find("TLS-Report-Submitter: ferry.test\r\n"), std::string::npos);
  EXPECT_NE(mail.find("TLS-Required: No\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Date: Tue, 08 Dec 2026 01:02:03 +0000\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Content-Type: multipart/report; report-type=\"tlsrpt\";"), std::string::npos);
  EXPECT_NE(mail.find("Content-Type: application/tlsrpt+gzip\r\n"), std::string::npos);
  EXPECT_NE(mail.find("filename=\"ferry.test!a.test!1796601600!1796687999!rid-3.json.gz\""),
            std::string::npos);
  EXPECT_EQ(mail.find("\n\n"), std::string::npos);  // CRLF only
}

}  // namespace
}  // namespace ferry::delivery
