// MxPlan: from DNS answers (as plain data) to the ordered list of (host, ip) targets to try
// (RFC 5321 §5.1, RFC 7505). Contract: pure; randomness only from the injected RandomSource;
// a failure is a NetworkError for ReplyClassifier (permanent or transient as §5.1 requires).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/delivery/AddressLiteral.hpp"
#include "mta/delivery/Random.hpp"
#include "mta/delivery/ReplyClassifier.hpp"

namespace ferry::delivery {

// Outcome of one DNS query, as the daemon's resolver reports it.
enum class DnsStatus : std::uint8_t {
  Ok,        // answer with records
  NoData,    // the name exists but has no records of this type
  NxDomain,  // the name does not exist
  TempFail,  // SERVFAIL, timeout, refused: never a reason to bounce (§5.1)
};

struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // exchange; "." or "" is the RFC 7505 null MX
};

struct MxAnswer {
  DnsStatus status = DnsStatus::Ok;
  std::vector<MxRecord> records;  // empty unless status == Ok
};

// Address lookups of one host, each list in resolver order (§5.1 MUST keep that order).
struct HostAddresses {
  std::string host;
  DnsStatus aaaa_status = DnsStatus::NoData;
  std::vector<std::string> ipv6;  // AAAA answers
  DnsStatus a_status = DnsStatus::NoData;
  std::vector<std::string> ipv4;  // A answers
};

// How a host's two families are merged (RFC 5321 §5.2: use both; tunable).
enum class AddressPreference : std::uint8_t { Ipv6First, Ipv4First, Ipv6Only, Ipv4Only };

struct MxPlanOptions {
  std::size_t max_addresses = 5;  // total targets, as Postfix's smtp_mx_address_limit
  AddressPreference preference = AddressPreference::Ipv6First;
  std::vector<std::string> own_hostnames;  // our names: an MX equal to one prunes (§5.1)
};

// One host to resolve, in the order it must be tried.
struct MxHost {
  std::string host;  // lower-cased, without trailing dot
  std::uint16_t preference = 0;
};

// One connection target.
struct Target {
  std::string host;  // MX host name, or the literal "[192.0.2.1]" for address literals
  std::string ip;    // canonical address text
  std::uint16_t preference = 0;
};

// Step 1: the MX answer for `domain` → the ordered hosts whose A/AAAA the daemon then resolves.
//  - NXDOMAIN → DnsNxDomain (permanent 5.1.2, §5.1); TempFail → DnsTemporary (transient 4.4.3;
//    §5.1 forbids falling back to A/AAAA).
//  - NoData, or Ok with no records → implicit MX: {domain, preference 0}.
//  - a single record with host "." (or "") → DnsNullMx (permanent 5.1.10, RFC 7505 §3). A null
//    entry mixed with real MX records is a misconfiguration: it is ignored (RFC 7505 §3, 7505-03).
//  - ascending preference; equal preferences shuffled with `rand` (§5.1 MUST randomise).
//  - if one of options.own_hostnames is an MX, every record with preference >= ours is dropped;
//    none left → MailLoop (permanent 5.4.6, §5.1 loop prevention).
Result<std::vector<MxHost>, NetworkError> plan_mx_hosts(std::string_view domain, const MxAnswer& answer,
                                                        const MxPlanOptions& options,
                                                        const RandomSource& rand);

// Step 2: the hosts (in step-1 order) and their resolved addresses → targets. Addresses of one
// host keep resolver order within a family; families are merged per options.preference;
// duplicates are dropped; at most options.max_addresses targets. No target at all → DnsTemporary
// when some lookup failed temporarily (retry later), else NoUsableMx (permanent 5.4.4).
// `addresses` may be in any order; hosts missing from it count as not resolved (NoData).
Result<std::vector<Target>, NetworkError> plan_targets(std::span<const MxHost> hosts,
                                                       std::span<const HostAddresses> addresses,
                                                       const MxPlanOptions& options);

// Both steps at once, when the daemon resolved every MX host up front.
Result<std::vector<Target>, NetworkError> plan_mx(std::string_view domain, const MxAnswer& answer,
                                                  std::span<const HostAddresses> addresses,
                                                  const MxPlanOptions& options, const RandomSource& rand);

// An address-literal recipient domain ("[192.0.2.1]", "[IPv6:2001:db8::1]") → that one target,
// no DNS (RFC 5321 §4.1.3, §5.1); a malformed literal → BadAddressLiteral (permanent 5.1.2).
Result<std::vector<Target>, NetworkError> plan_literal(std::string_view domain);

// One of our own listening sockets. An unspecified address (0.0.0.0, ::) listens on every local
// address: it matches loopback targets and any of `local_addresses` passed to is_own_listener.
struct Listener {
  std::string ip;
  std::uint16_t port = 25;
};

// True when connecting to ip:port would reach ourselves (mail loop → MailLoop 5.4.6).
// `local_addresses` are this machine's interface addresses (the daemon gathers them).
bool is_own_listener(std::string_view ip, std::uint16_t port, std::span<const Listener> listeners,
                     std::span<const std::string> local_addresses = {});

// Lower-case, trailing dot removed: the comparable form of a DNS name.
std::string normalize_host(std::string_view host);

}  // namespace ferry::delivery
