// DnsPlan: the resolver's answers (mta/net/Resolver) in the terms of the pure MX planner
// (mta/delivery/MxPlan), so the delivery agent and `ferry probe` turn DNS into targets alike.
// Contract: pure conversions; an empty MX host (RFC 7505 null MX) becomes ".".
#pragma once

#include <string>

#include "mta/delivery/DanePolicy.hpp"
#include "mta/delivery/MxPlan.hpp"
#include "mta/net/Resolver.hpp"

namespace ferry::outbound {

delivery::DnsStatus plan_status(net::DnsStatus status);

delivery::MxAnswer plan_mx_answer(const net::MxAnswer& answer);

// A and AAAA split by family; a family with no address is NoData when the lookup succeeded
// (the other family had records), else the lookup's own status.
delivery::HostAddresses plan_host_addresses(const std::string& host, const net::AddressAnswer& answer);

// The TLSA answer as DanePolicy reads it (status, AD bit as trusted, the records).
delivery::TlsaLookup plan_tlsa_lookup(const net::TlsaAnswer& answer);

// DanePolicy's records in the TLS layer's terms (for net::set_dane).
std::vector<net::dns::Tlsa> net_tlsa(const std::vector<delivery::TlsaRecord>& records);

}  // namespace ferry::outbound
