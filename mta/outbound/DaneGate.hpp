// DaneGate: the DNS half of DANE for one MX host (RFC 7672 §2.2): the host's address answer, and
// when that was DNSSEC-validated, its TLSA RRset, turned into DanePolicy's decision.
// Contract: completes on the caller's executor; "DANE applies to this MX host" (Kind::Dane) is
// known before any other TLS policy (MTA-STS) would be consulted, and then decides alone.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "mta/delivery/DanePolicy.hpp"
#include "mta/net/Resolver.hpp"

namespace ferry::outbound {

// The decision for MX host `host` of `domain`, reached on `port`. An insecure MX or address
// answer means NoDane without a TLSA query (an unsigned zone whose servers fail TLSA queries is
// therefore never deferred). Both answers usually come from the resolver's cache.
boost::asio::awaitable<delivery::DaneDecision> dane_for_host(net::Resolver& resolver,
                                                             boost::asio::any_io_executor executor,
                                                             std::string domain, std::string host,
                                                             std::uint16_t port);

}  // namespace ferry::outbound
