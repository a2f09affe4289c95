// MxPlan: RFC 5321 §5.1 ordering, null MX (RFC 7505), self-MX pruning, address merge and cap.
#include "mta/delivery/MxPlan.hpp"
#include "ferry/text/Ascii.hpp"

#include <algorithm>
#include <unordered_set>

namespace ferry::delivery {
namespace {

bool is_null_exchange(std::string_view host) { return host.empty() || host == "."; }

NetworkError err(NetworkErrorKind kind, std::string detail) { return NetworkError{kind, std::move(detail)}; }

}  // namespace

std::string normalize_host(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return text::to_lower(host);
}

Result<std::vector<MxHost>, NetworkError> plan_mx_hosts(std::string_view domain, const MxAnswer& answer,
                                                        const MxPlanOptions& options,
                                                        const RandomSource& rand) {
  const std::string name = normalize_host(domain);
  switch (answer.status) {
    case DnsStatus::NxDomain:
      return err(NetworkErrorKind::DnsNxDomain, name);
    case DnsStatus::TempFail:
      return err(NetworkErrorKind::DnsTemporary, "MX lookup for " + name);
    case DnsStatus::NoData:
      break;
    case DnsStatus::Ok:
      break;
  }
  if (answer.status == DnsStatus::NoData || answer.records.empty()) {
    // §5.1: no MX records → the domain itself is an implicit MX with preference 0.
    return std::vector<MxHost>{MxHost{name, 0}};
  }
  // RFC 7505 §3: exactly one record, preference 0, exchange "." is a null MX.
  if (answer.records.size() == 1 && is_null_exchange(answer.records[0].host))
    return err(NetworkErrorKind::DnsNullMx, name);

  std::vector<MxHost> hosts;
  hosts.reserve(answer.records.size());
  for (const auto& r : answer.records) {
    if (is_null_exchange(r.host)) continue;  // null entry among real MXs: ignored (7505-03)
    hosts.push_back(MxHost{normalize_host(r.host), r.preference});
  }
  if (hosts.empty()) return err(NetworkErrorKind::DnsNullMx, name);  // several null entries

  // Shuffle first (Fisher–Yates with the injected RNG), then a stable sort by preference:
  // equal preferences end up in random order (§5.1 MUST), different ones ascending.
  for (std::size_t i = hosts.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(uniform_below(rand, i));
    std::swap(hosts[i - 1], hosts[j]);
  }
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });

  // §5.1: if we are an MX, drop every record with preference >= our best one.
  bool own = false;
  std::uint16_t own_pref = 0;
  for (const auto& h : hosts) {
    for (const auto& mine : options.own_hostnames) {
      if (h.host == normalize_host(mine)) {
        if (!own || h.preference < own_pref) own_pref = h.preference;
        own = true;
      }
    }
  }
  if (own) {
    std::erase_if(hosts, [&](const MxHost& h) { return h.preference >= own_pref; });
    if (hosts.empty()) return err(NetworkErrorKind::MailLoop, "this host is the best MX for " + name);
  }
  return hosts;
}

Result<std::vector<Target>, NetworkError> plan_targets(std::span<const MxHost> hosts,
                                                       std::span<const HostAddresses> addresses,
                                                       const MxPlanOptions& options) {
  std::vector<Target> out;
  std::unordered_set<std::string> seen;
  bool temporary = false;
  std::string temp_host;
  auto add_all = [&](const MxHost& h, const std::vector<std::string>& list) {
    for (const auto& text : list) {
      if (out.size() >= options.max_addresses) return;
      auto ip = IpAddr::parse_scoped(text);
      if (!ip) continue;  // the resolver gave us garbage: skip it rather than connect to it
      std::string canon = ip->str();
      if (!seen.insert(canon).second) continue;
      out.push_back(Target{h.host, std::move(canon), h.preference});
    }
  };
  for (const auto& h : hosts) {
    if (out.size() >= options.max_addresses) break;
    const HostAddresses* found = nullptr;
    for (const auto& a : addresses)
      if (normalize_host(a.host) == h.host) {
        found = &a;
        break;
      }
    if (!found) continue;
    const bool use6 = options.preference != AddressPreference::Ipv4Only;
    const bool use4 = options.preference != AddressPreference::Ipv6Only;
    if ((use6 && found->aaaa_status == DnsStatus::TempFail) ||
        (use4 && found->a_status == DnsStatus::TempFail)) {
      temporary = true;
      if (temp_host.empty()) temp_host = h.host;
    }
    if (options.preference == AddressPreference::Ipv4First) {
      if (use4) add_all(h, found->ipv4);
      if (use6) add_all(h, found->ipv6);
    } else {
      if (use6) add_all(h, found->ipv6);
      if (use4) add_all(h, found->ipv4);
    }
  }
  if (out.empty()) {
    if (temporary) return err(NetworkErrorKind::DnsTemporary, "address lookup for " + temp_host);
    std::string names;
    for (const auto& h : hosts) names += (names.empty() ? "" : ", ") + h.host;
    return err(NetworkErrorKind::NoUsableMx, names);
  }
  return out;
}

Result<std::vector<Target>, NetworkError> plan_mx(std::string_view domain, const MxAnswer& answer,
                                                  std::span<const HostAddresses> addresses,
                                                  const MxPlanOptions& options, const RandomSource& rand) {
  auto hosts = plan_mx_hosts(domain, answer, options, rand);
  if (!hosts) return hosts.error();
  return plan_targets(*hosts, addresses, options);
}

Result<std::vector<Target>, NetworkError> plan_literal(std::string_view domain) {
  auto ip = parse_address_literal(domain);
  if (!ip) return err(NetworkErrorKind::BadAddressLiteral, std::string(domain));
  return std::vector<Target>{Target{std::string(domain), ip->str(), 0}};
}

bool is_own_listener(std::string_view ip, std::uint16_t port, std::span<const Listener> listeners,
                     std::span<const std::string> local_addresses) {
  const auto target = IpAddr::parse_scoped(ip);
  if (!target) return false;
  bool is_local = target->is_loopback() || target->is_unspecified();
  for (const auto& l : local_addresses) {
    auto a = IpAddr::parse_scoped(l);
    if (a && *a == *target) is_local = true;
  }
  for (const auto& l : listeners) {
    if (l.port != port) continue;
    auto a = IpAddr::parse_scoped(l.ip);
    if (!a) continue;
    if (*a == *target) return true;
    // A wildcard listener answers on every local address (a "::" socket usually takes IPv4 too).
    if (a->is_unspecified() && is_local && (!a->v4 || target->v4)) return true;
  }
  return false;
}

}  // namespace ferry::delivery
