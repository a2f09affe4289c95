// TlsReportMail: see TlsReportMail.hpp.
#include "mta/delivery/TlsReportMail.hpp"

#include <array>
#include <chrono>
#include <cstdio>

#include "mta/delivery/TlsReport.hpp"

namespace ferry::delivery {

namespace {

void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// RFC 5322 §3.3 date-time in UTC: "Mon, 07 Dec 2026 22:10:00 +0000".
std::string mail_date(TimeMs now) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_days day{days{utc_day(now)}};
  const year_month_day ymd{day};
  const auto secs = (now - day.time_since_epoch().count() * 86'400'000LL) / 1000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02lld:%02lld:%02lld +0000",
                kDays[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace

std::uint32_t crc32(std::string_view data) noexcept {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string gzip_stored(std::string_view data) {
  // RFC 1952 §2.3: ID1 ID2 CM=8 (deflate) FLG=0 MTIME=0 XFL=0 OS=3 (Unix).
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  // RFC 1951 §3.2.4: stored blocks of at most 65535 bytes: a header byte (BFINAL, BTYPE=00, the
  // rest of the byte skipped), LEN and its one's complement NLEN, little-endian, then the bytes.
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(data.size() - pos, 65535);
    const bool last = pos + n == data.size();
    out.push_back(last ? '\x01' : '\x00');
    const auto len = static_cast<std::uint16_t>(n);
    const auto nlen = static_cast<std::uint16_t>(~len);
    out.push_back(static_cast<char>(len & 0xFF));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(nlen & 0xFF));
    out.push_back(static_cast<char>(nlen >> 8));
    out.append(data.substr(pos, n));
    pos += n;
  } while (pos < data.size());
  put_le32(out, crc32(data));
  put_le32(out, static_cast<std::uint32_t>(data.size()));  // ISIZE: the size modulo 2^32
  return out;
}

std::string base64_lines(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const auto b0 = static_cast<unsigned char>(data[i]);
    const auto b1 = i + 1 < data.size() ? static_cast<unsigned char>(data[i + 1]) : 0u;
    const auto b2 = i + 2 < data.size() ? static_cast<unsigned char>(data[i + 2]) : 0u;
    out += kAlphabet[b0 >> 2];
    out += kAlphabet[((b0 & 3) << 4) | (b1 >> 4)];
    out += i + 1 < data.size() ? kAlphabet[((b1 & 15) << 2) | (b2 >> 6)] : '=';
    out += i + 2 < data.size() ? kAlphabet[b2 & 63] : '=';
    if ((line += 4) == 76) out += "\r\n", line = 0;
  }
  if (line) out += "\r\n";
  return out;
}

std::string compose_tls_report_mail(const TlsReportMail& mail, TimeMs now) {
  const long long start = mail.day * 86400LL;
  const std::string boundary = "tlsrpt-" + std::to_string(crc32(mail.report_id)) + "-" + std::to_string(now);
  const std::string file = mail.submitter + "!" + mail.policy_domain + "!" + std::to_string(start) + "!" +
                           std::to_string(start + 86399) + "!" + mail.report_id + ".json.gz";
  std::string m;
  m += "From: <" + mail.from + ">\r\n";
  m += "To: <" + mail.to + ">\r\n";
  m += "Subject: Report Domain: " + mail.policy_domain + " Submitter: " + mail.submitter + " Report-ID: <" +
       mail.report_id + ">\r\n";
  m += "Date: " + mail_date(now) + "\r\n";
  m += "Message-ID: <" + mail.report_id + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "TLS-Report-Domain: " + mail.policy_domain + "\r\n";
  m += "TLS-Report-Submitter: " + mail.submitter + "\r\n";
  m += "TLS-Required: No\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "This is a multi-part message in MIME format.\r\n\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is an aggregate TLS report (RFC 8460) from " + mail.organization + " for " + mail.policy_domain +
       ", " + day_text(mail.day) + " (UTC).\r\n\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: application/tlsrpt+gzip\r\n";
  m += "Content-Transfer-Encoding: base64\r\n";
  m += "Content-Disposition: attachment;\r\n\tfilename=\"" + file + "\"\r\n\r\n";
  m += base64_lines(gzip_stored(mail.json));
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace ferry::delivery
