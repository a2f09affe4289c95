// DanePolicy: see DanePolicy.hpp.
#include "mta/delivery/DanePolicy.hpp"

namespace ferry::delivery {

bool usable_for_smtp(const TlsaRecord& r) {
  if (r.usage != 2 && r.usage != 3) return false;  // PKIX-TA/PKIX-EE: RFC 7672 §3.1.3
  if (r.selector > 1) return false;
  switch (r.mtype) {
    case 0:
      return !r.data.empty();
    case 1:
      return r.data.size() == 32;  // SHA2-256
    case 2:
      return r.data.size() == 64;  // SHA2-512
    default:
      return false;
  }
}

namespace {

// "_25._tcp.tlsa.example.net" → "tlsa.example.net" (RFC 7672 §3.2.2's TLSA base domain).
std::string base_of(std::string_view owner) {
  if (owner.empty() || owner.front() != '_') return std::string(owner);
  const auto tcp = owner.find("._tcp.");
  return tcp == std::string_view::npos ? std::string(owner) : std::string(owner.substr(tcp + 6));
}

}  // namespace

DaneDecision decide_dane(const TlsaLookup& tlsa, std::string_view tlsa_name) {
  DaneDecision d;
  switch (tlsa.status) {
    case DaneLookupStatus::TempFail:
      d.kind = DaneDecision::Kind::Defer;
      d.reason = "TLSA lookup failed in a signed zone" + (tlsa.error.empty() ? "" : " (" + tlsa.error + ")");
      return d;
    case DaneLookupStatus::NoData:
    case DaneLookupStatus::NxDomain:
      return d;
    case DaneLookupStatus::Ok:
      break;
  }
  if (!tlsa.authenticated || tlsa.records.empty()) return d;
  d.kind = DaneDecision::Kind::Dane;
  if (!tlsa.owner.empty() && !tlsa_name.empty() && tlsa.owner != tlsa_name)
    d.base_domain = base_of(tlsa.owner);
  for (const auto& r : tlsa.records)
    if (usable_for_smtp(r)) d.records.push_back(r);
  if (d.records.empty()) d.reason = "no usable TLSA record: TLS without authentication";
  return d;
}

std::string tlsa_name(std::string_view host, std::uint16_t port) {
  std::string h(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  return "_" + std::to_string(port) + "._tcp." + h;
}

std::string to_text(const TlsaRecord& r) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out =
      std::to_string(r.usage) + " " + std::to_string(r.selector) + " " + std::to_string(r.mtype) + " ";
  for (unsigned char c : r.data) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0F]);
  }
  return out;
}

std::string usage_name(std::uint8_t usage) {
  switch (usage) {
    case 0:
      return "pkix-ta";
    case 1:
      return "pkix-ee";
    case 2:
      return "dane-ta";
    case 3:
      return "dane-ee";
    default:
      return "usage-" + std::to_string(usage);
  }
}

}  // namespace ferry::delivery
