// TlsReportMail: the report message of RFC 8460 §5.3 (multipart/report, report-type="tlsrpt",
// the JSON report gzip-compressed as application/tlsrpt+gzip) and the gzip container itself.
// Contract: pure; the message is CRLF-terminated RFC 5322 text ready to enqueue; the gzip member
// (RFC 1952) uses stored deflate blocks (RFC 1951 §3.2.4), valid for every gzip reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"

namespace ferry::delivery {

// CRC-32 as gzip uses it (RFC 1952 §8, the ISO 3309 polynomial).
std::uint32_t crc32(std::string_view data) noexcept;
// One gzip member holding `data` in stored (uncompressed) deflate blocks: a report is small, and
// no compression library is needed for a format every receiver must accept.
std::string gzip_stored(std::string_view data);
// Base64 (RFC 2045 §6.8) in lines of 76 characters, each ended by CRLF.
std::string base64_lines(std::string_view data);

struct TlsReportMail {
  std::string from;           // RFC5322.From address
  std::string to;             // the rua mailto: address
  std::string submitter;      // TLS-Report-Submitter: the reporting domain (our host name)
  std::string policy_domain;  // TLS-Report-Domain
  std::string report_id;      // also the Message-ID's local part
  std::int64_t day = 0;       // the UTC day reported on
  std::string organization;   // named in the human-readable part
  std::string json;           // the aggregate report (compose_tls_report_json)
};

// RFC 8460 §5.3: Subject "Report Domain: <domain> Submitter: <submitter> Report-ID: <id>", the
// TLS-Report-Domain and TLS-Report-Submitter fields, TLS-Required: No (RFC 8689 §4.2: a report
// about broken TLS must not itself wait for TLS), a text part, and the attachment named
// "<submitter>!<domain>!<start>!<end>!<id>.json.gz" (§5.1, times in seconds since the epoch).
std::string compose_tls_report_mail(const TlsReportMail& mail, TimeMs now);

}  // namespace ferry::delivery
