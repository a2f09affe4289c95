// RouteRules: the configuration's [[route]] tables as the route planner's RouteRule list, with
// each route's AUTH password read from its file. Used by the delivery agent (at start and on
// every SIGHUP reload) and by `ferry probe --config`, so both route exactly alike.
// Contract: a password file that cannot be read or is empty is an error naming the route; the
// caller refuses the configuration instead of delivering with a wrong password.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/RoutePlan.hpp"

namespace ferry::policy {

delivery::TlsPolicy route_tls_policy(config::RouteTls tls);

// Whether a route's tls_ca_file holds certificates the TLS library can load. Passed in so this room
// stays free of the TLS library (the daemon, probe and check-config pass net::check_ca_file).
using CaFileCheck = std::function<Result<void>(const std::string& ca_file)>;

Result<std::vector<delivery::RouteRule>> route_rules(const config::Config& config,
                                                     const CaFileCheck& check_ca_file);

}  // namespace ferry::policy
