// RoutePlan: which next hop a recipient domain goes to: a configured route (smarthost, fixed
// relay) or its own MX. Contract: pure; routes are consulted before MX lookup and before address
// literals (a "*" route takes everything); the Destination key is what the Scheduler groups by.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/delivery/AddressLiteral.hpp"
#include "mta/delivery/DanePolicy.hpp"
#include "mta/delivery/ReplyClassifier.hpp"
#include "mta/delivery/StsPolicy.hpp"
#include "mta/delivery/TlsPolicyKind.hpp"

namespace ferry::delivery {

// TLS policy of a next hop. None is the plaintext retry after an opportunistic handshake failed
// (Postfix's `may`); Verify checks the chain and host name (the daemon's job) on top of Required.
enum class TlsPolicy : std::uint8_t { None, Opportunistic, Required, Verify };

const char* to_string(TlsPolicy policy) noexcept;

// One `[[route]]` of the configuration, translated by the daemon into plain data.
struct RouteRule {
  std::string domain;      // "example.org" (case-insensitive) or "*"
  std::string host;        // "[10.0.0.5]", "[10.0.0.5]:2525", "relay.example.com[:587]"; empty
                           // = keep the recipient's own MX but apply this rule's policy
  std::uint16_t port = 0;  // 0: the port in `host`, else the default delivery port
  TlsPolicy tls = TlsPolicy::Opportunistic;
  bool implicit_tls = false;  // RFC 8314 §3.3: TLS from the first byte (port 465)
  std::string auth_user;      // empty: no AUTH
  std::string auth_password;
  std::string source_address;  // local address to bind, empty: any
  std::string tls_name;        // the certificate name to verify and send as SNI; empty: host
  std::string tls_ca_file;     // CA certificates for Verify; empty: the system's
};

// The most specific rule for a recipient domain: an exact domain match beats "*"; among equals
// the first in configuration order wins. nullptr when no rule applies.
const RouteRule* match_route(std::string_view recipient_domain, std::span<const RouteRule> rules);

// "[10.0.0.5]:2525" → {name "[10.0.0.5]", literal 10.0.0.5, port 2525};
// "relay.example.com:587" → {name "relay.example.com", port 587}. nullopt when malformed.
struct RouteHost {
  std::string name;               // host name or bracketed literal, without port
  std::optional<IpAddr> literal;  // set for "[...]" hosts
  std::uint16_t port = 0;         // 0 when not given
};
std::optional<RouteHost> parse_route_host(std::string_view host);

struct RouteDefaults {
  std::uint16_t port = 25;                   // `[delivery] port`
  TlsPolicy tls = TlsPolicy::Opportunistic;  // policy for MX deliveries
};

// Everything the daemon needs to deliver to one destination.
struct RoutePlan {
  enum class Lookup : std::uint8_t {
    Mx,       // resolve `name` by MX (implicit MX fallback) → MxPlan
    Literal,  // connect to `literal` directly, no DNS
  };
  std::string destination;  // Scheduler grouping key (see destination_key)
  bool routed = false;      // a RouteRule with a host decided the next hop
  Lookup lookup = Lookup::Mx;
  std::string name;  // the DNS name to look up, or the bracketed literal text
  std::optional<IpAddr> literal;
  std::uint16_t port = 25;
  TlsPolicy tls = TlsPolicy::Opportunistic;
  bool implicit_tls = false;
  std::string auth_user;
  std::string auth_password;
  std::string source_address;
  std::string tls_name;
  std::string tls_ca_file;
  // Set by the agent for one MX host that DANE governs (RFC 7672): TLS is mandatory (`tls` is
  // Required) and the certificate must match one of these records; empty: TLS without
  // authentication (a validated TLSA RRset with no usable record, §2.2).
  std::optional<std::vector<TlsaRecord>> dane;
  std::string dane_base_domain;  // a second reference name after a TLSA CNAME (RFC 7672 §3.2.2)
  // Set when a domain's published policy (MTA-STS, DANE) decided the TLS above: the delivery log
  // line and `ferry queue show` name it as tls_policy=...
  std::optional<TlsPolicyKind> tls_policy_kind;
  // The MTA-STS policy that applied (for the TLS report's policy-string and mx-host, RFC 8460 §4.4).
  std::optional<StsPolicy> sts_policy;
};

// The name a TLS connection to `target_host` announces (SNI) and, under Verify, requires in the
// certificate (RFC 6125): the route's tls_name; else a routed smarthost's own name (its MX hosts
// serve it); else the host connected to. Empty when there is none: an address literal has no
// name, and Verify must then fail rather than accept any certificate.
std::string tls_identity(const RoutePlan& plan, std::string_view target_host);

// The grouping key: routed → "<lower-cased host>:<port>" (the port always present, so it never
// collides with a domain key); otherwise the lower-cased recipient domain without trailing dot.
std::string destination_key(std::string_view recipient_domain, const RouteRule* rule,
                            const RouteDefaults& defaults = {});

// Route → literal → MX, in that order. Errors: a malformed literal recipient domain →
// BadAddressLiteral (permanent 5.1.2); a malformed route host → ConfigError (transient 4.3.5).
Result<RoutePlan, NetworkError> plan_route(std::string_view recipient_domain,
                                           std::span<const RouteRule> rules,
                                           const RouteDefaults& defaults = {});

// The domain part of an address ("user@Example.ORG" → "Example.ORG"; the last '@' counts, as
// local-parts may be quoted and contain '@'). Empty when there is no '@'.
std::string_view domain_of(std::string_view address);

}  // namespace ferry::delivery
