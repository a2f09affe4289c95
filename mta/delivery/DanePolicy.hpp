// DanePolicy: whether DANE (RFC 7672) governs the TLS of one MX host, from the DNSSEC status of
// its address and TLSA answers. Contract: pure; a usable, validated TLSA RRset means DANE (and
// MTA-STS is not consulted, RFC 8461 §2); a lookup that fails in a signed zone means Defer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::delivery {

// One TLSA record (RFC 6698 §2.1) in plain terms.
struct TlsaRecord {
  std::uint8_t usage = 0;     // 2 DANE-TA, 3 DANE-EE; 0/1 (PKIX-*) are unusable for SMTP
  std::uint8_t selector = 0;  // 0 certificate, 1 SubjectPublicKeyInfo
  std::uint8_t mtype = 0;     // 0 full, 1 SHA-256, 2 SHA-512
  std::string data;           // raw association data
  bool operator==(const TlsaRecord&) const = default;
};

// A DNS lookup's outcome as DANE sees it: `authenticated` is the validating resolver's AD bit,
// already false when that resolver is not trusted.
enum class DaneLookupStatus : std::uint8_t { Ok, NoData, NxDomain, TempFail };

struct TlsaLookup {
  DaneLookupStatus status = DaneLookupStatus::TempFail;
  bool authenticated = false;
  std::vector<TlsaRecord> records;
  std::string error;  // the resolver's words when it failed
  std::string owner;  // the name the records were found at, after any CNAME ("" = the name asked)
};

struct DaneDecision {
  enum class Kind : std::uint8_t {
    NoDane,  // insecure or no TLSA: the ordinary policy (MTA-STS, opportunistic) applies
    Dane,    // TLS is mandatory and the certificate must match one of `records`
    Defer,   // the MX host cannot be used now (RFC 7672 §2.2): `reason`
  };
  Kind kind = Kind::NoDane;
  std::vector<TlsaRecord> records;  // the usable records (Dane); empty = TLS without authentication
  std::string reason;               // why Defer, or why records were dropped
  // RFC 7672 §3.2.2: when the TLSA name was reached through a CNAME, the target's base domain
  // ("_25._tcp." removed) is a reference name besides the MX host; "" otherwise.
  std::string base_domain;
};

// "DANE applies to this MX host": a validated TLSA RRset exists, so DANE alone decides its TLS
// and no other policy (MTA-STS, RFC 8461 §2) is consulted for it.
inline bool dane_applies(const DaneDecision& d) { return d.kind == DaneDecision::Kind::Dane; }

// RFC 7672 §3.1.3 / RFC 6698 §2.1: usable for SMTP are DANE-TA(2) and DANE-EE(3) with selector
// 0/1 and matching type 0/1/2, with data of the length the matching type implies.
bool usable_for_smtp(const TlsaRecord& record);

// Whether a TLSA lookup is made at all: only when the MX RRset (or its secure denial, for the
// implicit MX) and the MX host's address answer were both validated (RFC 7672 §2.2.1: an
// insecure MX or address means no DANE, and an unsigned zone whose servers fail TLSA queries is
// never mistaken for a signed one).
inline bool tlsa_lookup_needed(bool mx_authenticated, bool address_authenticated) {
  return mx_authenticated && address_authenticated;
}

// The decision for one MX host whose address answer was authenticated, from its TLSA lookup at
// `_25._tcp.<host>`:
//  - TempFail (SERVFAIL, timeout; a bogus answer is SERVFAIL from the validator) → Defer: the
//    zone is signed, so the failure may hide an attack (RFC 7672 §2.2).
//  - NoData / NxDomain, or records that are not authenticated → NoDane.
//  - authenticated records → Dane with the usable ones; none usable → Dane with no records:
//    TLS is still mandatory, unauthenticated (RFC 7672 §2.2 last paragraph).
// `tlsa_name` is the name asked (for the CNAME's base domain).
DaneDecision decide_dane(const TlsaLookup& tlsa, std::string_view tlsa_name = {});

// "_25._tcp.mx.example.org" (RFC 7672 §2.2.1: the port actually connected to).
std::string tlsa_name(std::string_view host, std::uint16_t port);

// "3 1 1 <hex>", as a zone file writes it (for probe and logs).
std::string to_text(const TlsaRecord& record);

// "dane-ee" / "dane-ta" / "pkix-ee" / "pkix-ta" / "usage-N".
std::string usage_name(std::uint8_t usage);

}  // namespace ferry::delivery
