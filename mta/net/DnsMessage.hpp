// DnsMessage: the DNS wire format (RFC 1035 §4) for the lookups c-ares 1.18 cannot parse: a query
// with the AD bit (RFC 6840 §5.7) and a response's header, answer records and TLSA RDATA (RFC 6698 §2.1).
// Contract: pure (no sockets, no clock); every length, pointer and count read from a packet is
// bounded by the packet, a compression pointer may only point backwards, so no input loops or overreads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::net::dns {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeMx = 15;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kTypeTlsa = 52;

inline constexpr std::uint8_t kRcodeNoError = 0;
inline constexpr std::uint8_t kRcodeServFail = 2;
inline constexpr std::uint8_t kRcodeNxDomain = 3;

// A query for `name` (dotted, without or with the final dot) of `type`, class IN, RD set. `ad`:
// the AD bit asks a validating resolver to say whether the answer is authentic (RFC 6840 §5.7);
// an EDNS0 OPT record (RFC 6891) with a 1232-byte UDP size goes with it, DO clear (the
// signatures themselves are not wanted). nullopt for a name that is not a valid DNS name.
std::optional<std::string> build_query(std::uint16_t id, std::string_view name, std::uint16_t type, bool ad);

struct ResourceRecord {
  std::string name;  // lower-case, without the final dot
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::string rdata;  // raw RDATA bytes
  // CNAME and MX: the target name (the exchange, "" for the root of a null MX, RFC 7505),
  // decompressed against the packet; MX: its preference.
  std::string target;
  std::uint16_t preference = 0;
};

struct Response {
  std::uint16_t id = 0;
  std::uint8_t rcode = 0;
  bool authenticated = false;  // the AD bit (RFC 4035 §3.2.3)
  bool truncated = false;
  std::vector<ResourceRecord> answers;
};

// Parses a whole response; nullopt when the packet is malformed or not a response.
std::optional<Response> parse_response(std::string_view packet);

struct Tlsa {
  std::uint8_t usage = 0;     // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 6698 §2.1.1)
  std::uint8_t selector = 0;  // 0 full certificate, 1 SubjectPublicKeyInfo
  std::uint8_t mtype = 0;     // 0 full, 1 SHA-256, 2 SHA-512
  std::string data;           // the association data, raw bytes
  bool operator==(const Tlsa&) const = default;
};

// TLSA RDATA: three octets and at least one byte of data; nullopt otherwise.
std::optional<Tlsa> parse_tlsa(std::string_view rdata);

// The records of `type` in the answer section, following the CNAME chain from `qname` (RFC 1034
// §3.6.2; at most 8 links, a loop ends it). `owner` receives the name the records were found at.
std::vector<const ResourceRecord*> answers_of(const Response& response, std::string_view qname,
                                              std::uint16_t type, std::string* owner = nullptr);

// "192.0.2.1" / "2001:db8::1" from A or AAAA RDATA; empty for a wrong length.
std::string address_text(std::uint16_t type, std::string_view rdata);

// Lower-case hex of raw bytes (the way TLSA data is shown).
std::string hex(std::string_view bytes);

}  // namespace ferry::net::dns
