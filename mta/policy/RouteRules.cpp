// RouteRules: see RouteRules.hpp.
#include "mta/policy/RouteRules.hpp"

#include <fstream>
#include <optional>
#include <string>

namespace ferry::policy {
namespace {

// The first line, without its line end: the format of Postfix-style one-secret files.
std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace

delivery::TlsPolicy route_tls_policy(config::RouteTls tls) {
  switch (tls) {
    case config::RouteTls::Required:
      return delivery::TlsPolicy::Required;
    case config::RouteTls::Verify:
      return delivery::TlsPolicy::Verify;
    default:
      return delivery::TlsPolicy::Opportunistic;
  }
}

Result<std::vector<delivery::RouteRule>> route_rules(const config::Config& config,
                                                     const CaFileCheck& check_ca_file) {
  std::vector<delivery::RouteRule> rules;
  for (const auto& r : config.routes) {
    delivery::RouteRule rule;
    rule.domain = r.domain;
    // The config keeps a literal host without brackets; the route planner wants RFC 5321's
    // address-literal form (§4.1.3).
    rule.host = !r.host_is_literal                      ? r.host
                : r.host.find(':') != std::string::npos ? "[IPv6:" + r.host + "]"
                                                        : "[" + r.host + "]";
    rule.port = r.port.value_or(0);
    rule.tls = route_tls_policy(r.tls);
    rule.implicit_tls = r.implicit_tls;
    rule.auth_user = r.auth_user;
    if (!r.auth_password_file.empty()) {
      auto password = read_first_line(r.auth_password_file);
      if (!password || password->empty())
        return make_error(ErrorKind::Invalid, "[[route]] " + r.domain + ": auth_password_file " +
                                                  r.auth_password_file +
                                                  (password ? " is empty" : " cannot be read"));
      rule.auth_password = std::move(*password);
    }
    rule.source_address = r.source_address;
    rule.tls_name = r.tls_name;
    rule.tls_ca_file = r.tls_ca_file;
    if (!r.tls_ca_file.empty())
      if (auto loaded = check_ca_file(r.tls_ca_file); !loaded)
        return make_error(ErrorKind::Invalid, "[[route]] " + r.domain + ": " + loaded.error().message);
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace ferry::policy
