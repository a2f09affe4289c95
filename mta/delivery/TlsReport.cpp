// TlsReport: see TlsReport.hpp.
#include "mta/delivery/TlsReport.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "ferry/JsonEscape.hpp"
#include "ferry/text/Ascii.hpp"

namespace ferry::delivery {

namespace {

constexpr std::array<std::string_view, 11> kResultNames = {
    "starttls-not-supported", "certificate-host-mismatch",
    "certificate-expired",    "certificate-not-trusted",
    "validation-failure",     "tlsa-invalid",
    "dnssec-invalid",         "dane-required",
    "sts-policy-fetch-error", "sts-policy-invalid",
    "sts-webpki-invalid",
};

// Length-prefixed fields: "<decimal length>:<bytes>" each.
void put_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
}

std::optional<std::string> get_field(std::string_view& in) {
  const auto colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 9) return std::nullopt;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(in.data(), in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon || n > in.size() - colon - 1) return std::nullopt;
  std::string value(in.substr(colon + 1, n));
  in.remove_prefix(colon + 1 + n);
  return value;
}

void put_list(std::string& out, const std::vector<std::string>& values) {
  put_field(out, std::to_string(values.size()));
  for (const auto& v : values) put_field(out, v);
}

std::optional<std::vector<std::string>> get_list(std::string_view& in) {
  auto count = get_field(in);
  if (!count || count->empty() || count->size() > 4) return std::nullopt;
  std::size_t n = 0;
  if (std::from_chars(count->data(), count->data() + count->size(), n).ec != std::errc()) return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto v = get_field(in);
    if (!v) return std::nullopt;
    out.push_back(std::move(*v));
  }
  return out;
}

void json_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

void json_strings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    json_string(out, values[i]);
  }
  out += ']';
}

void json_policy(std::string& out, const TlsPolicyRef& policy, const TlsCounts& counts) {
  out += "{\"policy\":{\"policy-type\":";
  json_string(out, to_string(policy.type));
  out += ",\"policy-string\":";
  json_strings(out, policy.strings);
  out += ",\"policy-domain\":";
  json_string(out, policy.domain);
  if (!policy.mx_hosts.empty()) {
    out += ",\"mx-host\":";
    json_strings(out, policy.mx_hosts);
  }
  out += "},\"summary\":{\"total-successful-session-count\":" + std::to_string(counts.successes) +
         ",\"total-failure-session-count\":" + std::to_string(counts.failures) + "}";
  if (!counts.details.empty()) {
    out += ",\"failure-details\":[";
    bool first = true;
    for (const auto& [d, n] : counts.details) {
      out += first ? "{" : ",{";
      first = false;
      out += "\"result-type\":";
      json_string(out, to_string(d.result));
      if (!d.sending_ip.empty()) out += ",\"sending-mta-ip\":", json_string(out, d.sending_ip);
      if (!d.receiving_mx_hostname.empty())
        out += ",\"receiving-mx-hostname\":", json_string(out, d.receiving_mx_hostname);
      if (!d.receiving_ip.empty()) out += ",\"receiving-ip\":", json_string(out, d.receiving_ip);
      out += ",\"failed-session-count\":" + std::to_string(n) + "}";
    }
    out += ']';
  }
  out += '}';
}

// RFC 8460 §3: a URI of the rua list; commas and semicolons inside it are percent-encoded, so
// the list splits on them. mailto: carries an address (RFC 6068), perhaps with ?headers.
std::optional<TlsReportUri> parse_uri(std::string_view uri) {
  if (uri.size() > 1024) return std::nullopt;
  for (unsigned char c : uri)
    if (c <= ' ' || c >= 0x7f) return std::nullopt;
  if (text::iequals(uri.substr(0, 8), "https://") && uri.size() > 8)
    return TlsReportUri{TlsReportUri::Kind::Https, std::string(uri)};
  if (!text::iequals(uri.substr(0, 7), "mailto:")) return std::nullopt;
  std::string_view rest = uri.substr(7);
  rest = rest.substr(0, rest.find('?'));
  std::string address;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      address += rest[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= rest.size()) return std::nullopt;
    auto [p, ec] = std::from_chars(rest.data() + i + 1, rest.data() + i + 3, v, 16);
    if (ec != std::errc() || p != rest.data() + i + 3) return std::nullopt;
    address += static_cast<char>(v);
    i += 2;
  }
  const auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  for (unsigned char c : address)
    if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"') return std::nullopt;
  return TlsReportUri{TlsReportUri::Kind::Mailto, std::move(address)};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view to_string(TlsPolicyType type) noexcept {
  switch (type) {
    case TlsPolicyType::Sts:
      return "sts";
    case TlsPolicyType::Tlsa:
      return "tlsa";
    case TlsPolicyType::NoPolicyFound:
      break;
  }
  return "no-policy-found";
}

std::string_view to_string(TlsResultType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kResultNames.size() ? kResultNames[i] : "validation-failure";
}

std::optional<TlsResultType> parse_tls_result_type(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kResultNames.size(); ++i)
    if (kResultNames[i] == text) return static_cast<TlsResultType>(i);
  return std::nullopt;
}

std::int64_t utc_day(TimeMs at) noexcept {
  constexpr TimeMs kDay = 86'400'000;
  return at >= 0 ? at / kDay : (at - kDay + 1) / kDay;
}

std::string day_text(std::int64_t day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<std::int64_t> parse_day(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](std::size_t pos, std::size_t len, auto& out) {
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && p == text.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

void TlsCounts::add_failure(const TlsFailureDetail& detail, std::uint64_t count) {
  failures += count;
  auto it = details.find(detail);
  if (it != details.end())
    it->second += count;
  else if (details.size() < kMaxDetails)
    details.emplace(detail, count);
}

void TlsCounts::merge(const TlsCounts& other) {
  successes += other.successes;
  for (const auto& [d, n] : other.details) add_failure(d, n);
  // Failures beyond the other side's detail rows still count in the summary.
  std::uint64_t in_rows = 0;
  for (const auto& [d, n] : other.details) in_rows += n;
  if (other.failures > in_rows) failures += other.failures - in_rows;
}

void TlsReportBook::add(const TlsOutcome& outcome) {
  TlsCounts& c = entries_[{utc_day(outcome.at), outcome.policy}];
  if (outcome.failure)
    c.add_failure(*outcome.failure, 1);
  else
    ++c.successes;
}

std::string encode_policy(const TlsPolicyRef& policy) {
  std::string out;
  put_field(out, to_string(policy.type));
  put_field(out, policy.domain);
  put_list(out, policy.strings);
  put_list(out, policy.mx_hosts);
  return out;
}

std::optional<TlsPolicyRef> decode_policy(std::string_view bytes) {
  TlsPolicyRef p;
  auto type = get_field(bytes);
  auto domain = get_field(bytes);
  if (!type || !domain) return std::nullopt;
  if (*type == "sts")
    p.type = TlsPolicyType::Sts;
  else if (*type == "tlsa")
    p.type = TlsPolicyType::Tlsa;
  else if (*type != "no-policy-found")
    return std::nullopt;
  p.domain = std::move(*domain);
  auto strings = get_list(bytes);
  if (!strings) return std::nullopt;
  auto mx = get_list(bytes);
  if (!mx || !bytes.empty()) return std::nullopt;
  p.strings = std::move(*strings);
  p.mx_hosts = std::move(*mx);
  return p;
}

std::string encode_detail(const TlsFailureDetail& detail) {
  std::string out;
  put_field(out, to_string(detail.result));
  put_field(out, detail.sending_ip);
  put_field(out, detail.receiving_mx_hostname);
  put_field(out, detail.receiving_ip);
  return out;
}

std::optional<TlsFailureDetail> decode_detail(std::string_view bytes) {
  auto result = get_field(bytes);
  auto sending = get_field(bytes);
  auto mx = get_field(bytes);
  auto ip = get_field(bytes);
  if (!result || !sending || !mx || !ip || !bytes.empty()) return std::nullopt;
  auto type = parse_tls_result_type(*result);
  if (!type) return std::nullopt;
  return TlsFailureDetail{*type, std::move(*sending), std::move(*mx), std::move(*ip)};
}

std::string compose_tls_report_json(const TlsReportMeta& meta,
                                    const std::vector<std::pair<TlsPolicyRef, TlsCounts>>& policies) {
  std::string out = "{\"organization-name\":";
  json_string(out, meta.organization);
  const std::string day = day_text(meta.day);
  out += ",\"date-range\":{\"start-datetime\":\"" + day + "T00:00:00Z\",\"end-datetime\":\"" + day +
         "T23:59:59Z\"},\"contact-info\":";
  json_string(out, meta.contact);
  out += ",\"report-id\":";
  json_string(out, meta.report_id);
  out += ",\"policies\":[";
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (i) out += ',';
    json_policy(out, policies[i].first, policies[i].second);
  }
  out += "]}";
  return out;
}

Result<std::vector<TlsReportUri>, std::string> parse_tlsrpt_record(std::string_view record) {
  // RFC 8460 §3: tlsrpt-version first, fields separated by *WSP ";" *WSP.
  std::vector<std::string_view> fields;
  for (std::size_t start = 0; start <= record.size();) {
    const auto semi = record.find(';', start);
    const auto end = semi == std::string_view::npos ? record.size() : semi;
    fields.push_back(trim(record.substr(start, end - start)));
    start = end + 1;
  }
  if (fields.empty() || fields.front() != "v=TLSRPTv1") return std::string("not a TLSRPTv1 record");
  std::vector<TlsReportUri> uris;
  bool seen_rua = false;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    if (fields[i].substr(0, 4) != "rua=") continue;  // extensions are ignored
    if (seen_rua) return std::string("more than one rua field");
    seen_rua = true;
    std::string_view list = fields[i].substr(4);
    for (std::size_t start = 0; start <= list.size();) {
      const auto comma = list.find(',', start);
      const auto end = comma == std::string_view::npos ? list.size() : comma;
      if (auto uri = parse_uri(trim(list.substr(start, end - start))); uri && uris.size() < kMaxTlsReportUris)
        uris.push_back(std::move(*uri));
      start = end + 1;
    }
  }
  if (!seen_rua) return std::string("no rua field");
  if (uris.empty()) return std::string("no mailto: or https: URI in rua");
  return uris;
}

Result<std::vector<TlsReportUri>, std::string> select_tlsrpt_record(const std::vector<std::string>& txt) {
  const std::string* found = nullptr;
  std::size_t count = 0;
  for (const auto& r : txt)
    if (r.rfind("v=TLSRPTv1", 0) == 0) found = &r, ++count;
  if (count == 0) return std::string("no TLSRPTv1 record");
  if (count > 1) return std::string("more than one TLSRPTv1 record");
  return parse_tlsrpt_record(*found);
}

}  // namespace ferry::delivery
