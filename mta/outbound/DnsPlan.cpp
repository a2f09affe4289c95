// DnsPlan: see DnsPlan.hpp.
#include "mta/outbound/DnsPlan.hpp"

namespace ferry::outbound {

delivery::DnsStatus plan_status(net::DnsStatus status) {
  switch (status) {
    case net::DnsStatus::Ok:
      return delivery::DnsStatus::Ok;
    case net::DnsStatus::NoData:
      return delivery::DnsStatus::NoData;
    case net::DnsStatus::NxDomain:
      return delivery::DnsStatus::NxDomain;
    default:
      return delivery::DnsStatus::TempFail;
  }
}

delivery::MxAnswer plan_mx_answer(const net::MxAnswer& answer) {
  delivery::MxAnswer out;
  out.status = plan_status(answer.status);
  for (const auto& r : answer.records) out.records.push_back({r.preference, r.host.empty() ? "." : r.host});
  return out;
}

delivery::HostAddresses plan_host_addresses(const std::string& host, const net::AddressAnswer& answer) {
  delivery::HostAddresses out;
  out.host = host;
  for (const auto& ip : answer.addresses)
    (ip.find(':') != std::string::npos ? out.ipv6 : out.ipv4).push_back(ip);
  const delivery::DnsStatus empty_family =
      answer.status == net::DnsStatus::Ok ? delivery::DnsStatus::NoData : plan_status(answer.status);
  out.aaaa_status = out.ipv6.empty() ? empty_family : delivery::DnsStatus::Ok;
  out.a_status = out.ipv4.empty() ? empty_family : delivery::DnsStatus::Ok;
  return out;
}

delivery::TlsaLookup plan_tlsa_lookup(const net::TlsaAnswer& answer) {
  delivery::TlsaLookup out;
  switch (answer.status) {
    case net::DnsStatus::Ok:
      out.status = delivery::DaneLookupStatus::Ok;
      break;
    case net::DnsStatus::NoData:
      out.status = delivery::DaneLookupStatus::NoData;
      break;
    case net::DnsStatus::NxDomain:
      out.status = delivery::DaneLookupStatus::NxDomain;
      break;
    case net::DnsStatus::TempFail:
      out.status = delivery::DaneLookupStatus::TempFail;
      break;
  }
  out.authenticated = answer.authenticated;
  out.error = answer.error;
  out.owner = answer.owner;
  for (const auto& r : answer.records) out.records.push_back({r.usage, r.selector, r.mtype, r.data});
  return out;
}

std::vector<net::dns::Tlsa> net_tlsa(const std::vector<delivery::TlsaRecord>& records) {
  std::vector<net::dns::Tlsa> out;
  for (const auto& r : records) out.push_back({r.usage, r.selector, r.mtype, r.data});
  return out;
}

}  // namespace ferry::outbound
