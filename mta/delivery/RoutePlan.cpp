// RoutePlan: route matching (exact beats "*") and the route → literal → MX decision.
#include "mta/delivery/RoutePlan.hpp"

#include "mta/delivery/MxPlan.hpp"

namespace ferry::delivery {

const char* to_string(TlsPolicy policy) noexcept {
  switch (policy) {
    case TlsPolicy::None:
      return "none";
    case TlsPolicy::Opportunistic:
      return "opportunistic";
    case TlsPolicy::Required:
      return "required";
    case TlsPolicy::Verify:
      return "verify";
  }
  return "unknown";
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return address.substr(at + 1);
}

const RouteRule* match_route(std::string_view recipient_domain, std::span<const RouteRule> rules) {
  const std::string domain = normalize_host(recipient_domain);
  const RouteRule* wildcard = nullptr;
  for (const auto& r : rules) {
    if (r.domain == "*") {
      if (!wildcard) wildcard = &r;
    } else if (normalize_host(r.domain) == domain) {
      return &r;  // exact match: the most specific rule
    }
  }
  return wildcard;
}

std::optional<RouteHost> parse_route_host(std::string_view host) {
  RouteHost out;
  std::string_view rest;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.name = std::string(host.substr(0, close + 1));
    out.literal = parse_address_literal(out.name);
    if (!out.literal) return std::nullopt;
    rest = host.substr(close + 1);
  } else {
    const auto colon = host.find(':');
    out.name = normalize_host(host.substr(0, colon));
    if (out.name.empty()) return std::nullopt;
    if (colon != std::string_view::npos) rest = host.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
    unsigned port = 0;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

namespace {

std::uint16_t effective_port(const RouteRule& rule, const RouteHost& host, const RouteDefaults& d) {
  if (rule.port) return rule.port;
  if (host.port) return host.port;
  return d.port;
}

}  // namespace

std::string destination_key(std::string_view recipient_domain, const RouteRule* rule,
                            const RouteDefaults& defaults) {
  if (rule && !rule->host.empty()) {
    if (auto h = parse_route_host(rule->host)) {
      std::string key;
      if (h->literal) {
        key += '[';
        key += h->literal->str();
        key += ']';
      } else {
        key = h->name;
      }
      key += ':';
      key += std::to_string(effective_port(*rule, *h, defaults));
      return key;
    }
    return normalize_host(rule->host);  // malformed: plan_route reports it; still a stable key
  }
  return normalize_host(recipient_domain);
}

Result<RoutePlan, NetworkError> plan_route(std::string_view recipient_domain,
                                           std::span<const RouteRule> rules, const RouteDefaults& defaults) {
  RoutePlan plan;
  plan.port = defaults.port;
  plan.tls = defaults.tls;
  const RouteRule* rule = match_route(recipient_domain, rules);
  plan.destination = destination_key(recipient_domain, rule, defaults);
  if (rule) {
    plan.tls = rule->tls;
    plan.implicit_tls = rule->implicit_tls;
    plan.auth_user = rule->auth_user;
    plan.auth_password = rule->auth_password;
    plan.source_address = rule->source_address;
    plan.tls_name = rule->tls_name;
    plan.tls_ca_file = rule->tls_ca_file;
    if (rule->port) plan.port = rule->port;
  }
  if (rule && !rule->host.empty()) {
    auto h = parse_route_host(rule->host);
    if (!h) return NetworkError{NetworkErrorKind::ConfigError, "route host \"" + rule->host + "\""};
    plan.routed = true;
    plan.port = effective_port(*rule, *h, defaults);
    plan.name = h->name;
    if (h->literal) {
      plan.lookup = RoutePlan::Lookup::Literal;
      plan.literal = h->literal;
    }
    return plan;
  }
  if (looks_like_address_literal(recipient_domain)) {
    auto ip = parse_address_literal(recipient_domain);
    if (!ip) return NetworkError{NetworkErrorKind::BadAddressLiteral, std::string(recipient_domain)};
    plan.lookup = RoutePlan::Lookup::Literal;
    plan.name = std::string(recipient_domain);
    plan.literal = ip;
    return plan;
  }
  plan.name = normalize_host(recipient_domain);
  return plan;
}

std::string tls_identity(const RoutePlan& plan, std::string_view target_host) {
  if (!plan.tls_name.empty()) return plan.tls_name;
  std::string name =
      plan.routed && plan.lookup == RoutePlan::Lookup::Mx ? plan.name : std::string(target_host);
  if (!name.empty() && name.front() == '[') return {};
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace ferry::delivery
