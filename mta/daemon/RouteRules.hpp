// RouteRules: the configuration's [[route]] tables as the route planner's RouteRule list, with
// each route's AUTH password read from its file. Used by the delivery agent (at start and on
// every SIGHUP reload) and by `ferry probe --config`, so both route exactly alike.
// Contract: a password file that cannot be read or is empty is an error naming the route; the
// caller refuses the configuration instead of delivering with a wrong password.
#pragma once

#include <vector>

#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/RoutePlan.hpp"

namespace ferry::daemon {

delivery::TlsPolicy route_tls_policy(config::RouteTls tls);

Result<std::vector<delivery::RouteRule>> route_rules(const config::Config& config);

}  // namespace ferry::daemon
