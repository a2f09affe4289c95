#include "mta/smtp/ReceivedHeader.hpp"

#include <cstdint>
#include <cstdio>

#include "ferry/text/SafeText.hpp"

namespace ferry::smtp {

namespace {

// Howard Hinnant's civil_from_days: days since 1970-01-01 -> (y, m, d).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::string format_rfc5322_date(WallTime time) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t local_s = floor_div(time.unix_ms, 1000) + std::int64_t{time.utc_offset_minutes} * 60;
  const std::int64_t days = floor_div(local_s, 86400);
  const std::int64_t secs = local_s - days * 86400;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const auto wd = static_cast<std::size_t>(((days % 7) + 7) % 7);
  const int off = time.utc_offset_minutes;
  const int aoff = off < 0 ? -off : off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %u %s %lld %02d:%02d:%02d %c%02d%02d", kDays[wd], d, kMonths[m - 1],
                static_cast<long long>(y), static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), off < 0 ? '-' : '+', aoff / 60, aoff % 60);
  return buf;
}

std::string received_protocol(bool esmtp, bool tls, bool authenticated, bool smtputf8) {
  if (smtputf8) {
    // RFC 6531 §3.7.3: UTF8SMTP, UTF8SMTPA, UTF8SMTPS, UTF8SMTPSA.
    std::string p = "UTF8SMTP";
    if (tls) p += 'S';
    if (authenticated) p += 'A';
    return p;
  }
  if (!esmtp) return "SMTP";
  // RFC 3848 §1: ESMTP, ESMTPA, ESMTPS, ESMTPSA.
  std::string p = "ESMTP";
  if (tls) p += 'S';
  if (authenticated) p += 'A';
  return p;
}

std::string build_received_header(const ReceivedInfo& info) {
  // RFC 5321 §4.4: From-domain, By-domain, Via/With, ID, For, then ";" date-time.
  std::string h;
  h.reserve(256);
  // What the client chose (HELO name, recipient) is escaped: a CR or LF in it would end the
  // header field early and let the client write header fields of its own (RFC 5322 §2.2).
  h += "Received: from ";
  text::append_safe_text(h, info.helo);
  h += " (";
  text::append_safe_text(h, info.client_name.empty() ? info.client_ip : info.client_name);
  h += " [";
  h += info.client_ip;
  h += "])\r\n";
  if (!info.tls_version.empty()) {
    h += "\t(using ";
    h += info.tls_version;
    if (!info.tls_cipher.empty()) {
      h += " with cipher ";
      h += info.tls_cipher;
    }
    h += ")\r\n";
  }
  h += "\tby ";
  h += info.hostname;
  h += " (Ferry) with ";
  h += info.protocol;
  h += " id ";
  h += info.queue_id.str();
  if (!info.recipient.empty()) {
    h += "\r\n\tfor <";
    text::append_safe_text(h, info.recipient);
    h += '>';
  }
  h += ";";
  // Fold before the date when the line would pass 78 characters (RFC 5322 §2.1.1).
  const std::string date = format_rfc5322_date(info.time);
  const std::size_t line_start = h.rfind('\n') + 1;
  if (h.size() - line_start + 1 + date.size() > 78)
    h += "\r\n\t";
  else
    h += ' ';
  h += date;
  h += "\r\n";
  return h;
}

}  // namespace ferry::smtp
