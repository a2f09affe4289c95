// TlsReport: SMTP TLS Reporting (RFC 8460) as pure data: the outcome of one TLS session attempt,
// its aggregation per UTC day and policy, the aggregate JSON report and the `_smtp._tls` record.
// Contract: pure (no I/O, no clock reads: times are arguments); every field name written is the
// one RFC 8460 §4.4 defines; what a remote or DNS wrote is escaped as JSON text, never trusted.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"

namespace ferry::delivery {

// RFC 8460 §4.4 "policy-type".
enum class TlsPolicyType : std::uint8_t { Sts, Tlsa, NoPolicyFound };
std::string_view to_string(TlsPolicyType type) noexcept;

// RFC 8460 §4.3 result types: negotiation (§4.3.1), DANE (§4.3.2.1), MTA-STS (§4.3.2.2).
enum class TlsResultType : std::uint8_t {
  StarttlsNotSupported,
  CertificateHostMismatch,
  CertificateExpired,
  CertificateNotTrusted,
  ValidationFailure,
  TlsaInvalid,
  DnssecInvalid,
  DaneRequired,
  StsPolicyFetchError,
  StsPolicyInvalid,
  StsWebpkiInvalid,
};
std::string_view to_string(TlsResultType type) noexcept;
std::optional<TlsResultType> parse_tls_result_type(std::string_view text) noexcept;

// The policy that applied to a session (RFC 8460 §4.4 "policy"). For `no-policy-found` the
// strings and MX hosts are empty and the domain is the recipient domain.
struct TlsPolicyRef {
  TlsPolicyType type = TlsPolicyType::NoPolicyFound;
  std::vector<std::string> strings;   // "policy-string": the policy's lines or TLSA records
  std::string domain;                 // "policy-domain" (lower-case)
  std::vector<std::string> mx_hosts;  // "mx-host": the MTA-STS policy's mx patterns
  auto operator<=>(const TlsPolicyRef&) const = default;
};

// One row of "failure-details" without its count (RFC 8460 §4.4).
struct TlsFailureDetail {
  TlsResultType result = TlsResultType::ValidationFailure;
  std::string sending_ip;             // "sending-mta-ip"
  std::string receiving_mx_hostname;  // "receiving-mx-hostname"
  std::string receiving_ip;           // "receiving-ip"
  auto operator<=>(const TlsFailureDetail&) const = default;
};

// One TLS session attempt: a success (no failure) or a failure of the given kind.
struct TlsOutcome {
  TlsPolicyRef policy;
  std::optional<TlsFailureDetail> failure;
  TimeMs at = 0;
};

// A UTC day, as days since 1970-01-01 (RFC 8460 §4.1: a report covers one UTC day).
std::int64_t utc_day(TimeMs at) noexcept;
std::string day_text(std::int64_t day);  // "2026-12-07"
std::optional<std::int64_t> parse_day(std::string_view text);

// A policy's counters for one day. The failure details are bounded: past kMaxDetails distinct
// rows a failure still counts in the summary but adds no row, so a remote that varies its
// address cannot grow a record without limit.
struct TlsCounts {
  static constexpr std::size_t kMaxDetails = 100;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::map<TlsFailureDetail, std::uint64_t> details;
  void add_failure(const TlsFailureDetail& detail, std::uint64_t count);
  void merge(const TlsCounts& other);
};

// Outcomes gathered in memory between two writes to the queue, by (day, policy).
class TlsReportBook {
 public:
  using Key = std::pair<std::int64_t, TlsPolicyRef>;
  void add(const TlsOutcome& outcome);
  bool empty() const { return entries_.empty(); }
  std::map<Key, TlsCounts> take() { return std::exchange(entries_, {}); }

 private:
  std::map<Key, TlsCounts> entries_;
};

// The stored forms of a policy and of a failure detail (length-prefixed fields, so no value can
// forge a separator); the queue keeps them as opaque bytes.
std::string encode_policy(const TlsPolicyRef& policy);
std::optional<TlsPolicyRef> decode_policy(std::string_view bytes);
std::string encode_detail(const TlsFailureDetail& detail);
std::optional<TlsFailureDetail> decode_detail(std::string_view bytes);

// What the report says about its sender (RFC 8460 §4.4).
struct TlsReportMeta {
  std::string organization;  // "organization-name"
  std::string contact;       // "contact-info"
  std::string report_id;     // "report-id"
  std::int64_t day = 0;      // "date-range": 00:00:00Z to 23:59:59Z of this day
};

// The aggregate report for one policy domain (RFC 8460 §4.4), compact JSON.
std::string compose_tls_report_json(const TlsReportMeta& meta,
                                    const std::vector<std::pair<TlsPolicyRef, TlsCounts>>& policies);

// A reporting URI of the `rua` field (RFC 8460 §3).
struct TlsReportUri {
  enum class Kind : std::uint8_t { Mailto, Https };
  Kind kind = Kind::Mailto;
  std::string target;  // the mail address (percent-decoded) or the whole https URL
};

// Parses one `v=TLSRPTv1; rua=...` record (RFC 8460 §3). URIs of other schemes are skipped;
// at most kMaxUris are kept. An error when the record is not TLSRPTv1 or has no usable rua.
inline constexpr std::size_t kMaxTlsReportUris = 8;
Result<std::vector<TlsReportUri>, std::string> parse_tlsrpt_record(std::string_view record);
// Picks the TLSRPT record among a name's TXT records: RFC 8460 §3 says a domain with other than
// exactly one record starting with "v=TLSRPTv1" does not implement TLS-RPT.
Result<std::vector<TlsReportUri>, std::string> select_tlsrpt_record(const std::vector<std::string>& txt);

}  // namespace ferry::delivery
