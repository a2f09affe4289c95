// TlsReportOps: the `tlsrpt` table of the queue: TLS Reporting counters keyed by day, policy
// domain and policy, merged in place, listed and deleted a day at a time.
// Contract: ops run inside a transaction the caller owns and never commit; a record that fails
// to decode is skipped by reads and quarantined (never just deleted) when its day is deleted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "queue/TlsReportTypes.hpp"
#include "queue/TxnOps.hpp"

namespace ferry::queue::ops {

// tlsrpt key: be32(day) + policy domain + '\0' + policy; value: version, counters, details.
inline constexpr std::uint8_t kTlsReportVersion = 1;
std::string tls_report_key(const TlsReportRecord& r);
std::string encode_tls_report(const TlsReportRecord& r);
Result<TlsReportRecord> decode_tls_report(std::string_view key, std::string_view value);

// Adds each record's counters to the stored ones (a new key starts at zero).
Result<void> add_tls_reports(Ctx& c, const std::vector<TlsReportRecord>& records);
Result<std::vector<TlsReportRecord>> tls_reports(Ctx& c, std::uint32_t day);
Result<std::vector<std::uint32_t>> tls_report_days(Ctx& c);
Result<void> delete_tls_reports(Ctx& c, std::uint32_t day, TimeMs now);

}  // namespace ferry::queue::ops
