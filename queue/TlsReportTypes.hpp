// TlsReportTypes: the queue's plain record of TLS Reporting counters (RFC 8460 aggregate
// reports): per UTC day and policy, the sessions that succeeded, failed, and how.
// Contract: plain data; the policy and each failure detail are opaque bytes whose meaning the
// delivery side owns, so the queue knows nothing of TLS or of the report format.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ferry::queue {

struct TlsReportRecord {
  std::uint32_t day = 0;      // days since 1970-01-01 (UTC)
  std::string policy_domain;  // the domain the report goes to
  std::string policy;         // the policy's identity (opaque)
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::vector<std::pair<std::string, std::uint64_t>> details;  // failure detail (opaque) -> count
};

// A stored record keeps at most this many detail rows; failures past it still count in
// `failures`, so a remote that varies its addresses cannot grow a record without limit.
inline constexpr std::size_t kMaxTlsReportDetails = 100;

}  // namespace ferry::queue
