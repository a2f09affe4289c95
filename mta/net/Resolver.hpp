// Resolver: asynchronous DNS (MX, A, AAAA) with c-ares driven by the Asio event loop, plus a
// TTL cache. Contract: never blocks the I/O thread; every call completes exactly once, on the
// io_context, with a Status that separates NXDOMAIN / NODATA (permanent facts) from temporary
// failures (SERVFAIL, timeouts: RFC 5321 §5.1 says retry, never bounce or fall back).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/net/DnsMessage.hpp"

namespace ferry::net {

enum class DnsStatus {
  Ok,        // records found
  NoData,    // the name exists but has no records of this type
  NxDomain,  // the name does not exist
  TempFail,  // SERVFAIL, timeout, refused, network error: try again later
};

const char* to_string(DnsStatus status);

struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // without the trailing dot; "" for a null MX (RFC 7505 ".")
};

struct MxAnswer {
  DnsStatus status = DnsStatus::TempFail;
  std::vector<MxRecord> records;
  std::string error;                 // c-ares' description when not Ok
  std::optional<std::uint32_t> ttl;  // smallest answer TTL in seconds as received (not aged by the cache)
  // DNSSEC: the MX RRset (or its denial: implicit MX) carried a trusted resolver's AD bit; DANE
  // applies to an MX host only when this is so (RFC 7672 §2.2.1).
  bool authenticated = false;
};

struct AddressAnswer {
  DnsStatus status = DnsStatus::TempFail;  // Ok when at least one of A/AAAA had records
  std::vector<std::string> addresses;      // IPv6 first, then IPv4, each in resolver order
  std::string error;
  std::optional<std::uint32_t> ttl;  // smallest A/AAAA TTL in seconds as received
  // DNSSEC: both answers (A and AAAA, records or denial) carried the AD bit of a trusted
  // validating resolver (RFC 6840 §5.7); false whenever the resolver is not trusted.
  bool authenticated = false;
};

// The TLSA RRset at a name such as `_25._tcp.mx.example.org` (RFC 7672 §2.2.1). A validating
// resolver answers SERVFAIL for a bogus RRset, so a bogus answer is TempFail here.
struct TlsaAnswer {
  DnsStatus status = DnsStatus::TempFail;
  std::vector<dns::Tlsa> records;  // every record, usable or not, malformed ones dropped
  bool authenticated = false;      // as AddressAnswer::authenticated
  std::string owner;               // where the records were found, after any CNAME (RFC 7672 §2.2.3)
  std::string error;
  std::optional<std::uint32_t> ttl;
};

// TXT records (RFC 1035 §3.3.14), each record's character-strings joined into one string, as
// MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) read them.
struct TxtAnswer {
  DnsStatus status = DnsStatus::TempFail;
  std::vector<std::string> records;
  std::string error;
  std::optional<std::uint32_t> ttl;
};

struct ResolverOptions {
  std::vector<std::string> servers;  // "ip:port" / "[ipv6]:port" / "ip"; empty = /etc/resolv.conf
  std::chrono::milliseconds timeout{3000};
  int tries = 2;
  std::chrono::seconds negative_ttl{60};  // how long NXDOMAIN/NODATA answers are cached
  std::chrono::seconds max_ttl{3600};
  // Believe the AD bit of a resolver that is not on loopback (`[dns] trust_ad`): only over a
  // path the operator trusts. Resolvers on loopback are always believed (RFC 6698 §4.1's
  // local-validator setup; Postfix and mox decide the same way).
  bool trust_ad = false;
};

class Resolver {
 public:
  static Result<std::shared_ptr<Resolver>> create(boost::asio::any_io_executor executor,
                                                  const ResolverOptions& options);
  ~Resolver();

  // Both must be called on the resolver's executor (the daemon has one I/O thread).
  void lookup_mx(const std::string& domain, std::function<void(MxAnswer)> done);
  void lookup_addresses(const std::string& host, std::function<void(AddressAnswer)> done);
  // Records found are cached for their TTL; "none" is not cached, so a record just published counts.
  void lookup_txt(const std::string& name, std::function<void(TxtAnswer)> done);
  // Not cached: asked once per connection to a host whose address answer was authenticated.
  void lookup_tlsa(const std::string& name, std::function<void(TlsaAnswer)> done);
  // Whether AD bits are believed at all: every server is on loopback, or trust_ad.
  bool ad_trusted() const;

  void shutdown();  // cancels outstanding queries (their callbacks get TempFail)

  struct Impl;

 private:
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::net
