// ConfigWarnings: a valid configuration that will not do what a small host's admin expects
// (mail to root refused, outbound port 25 blocked by the provider, an admin address that is
// itself local). Contract: pure; each warning is one line of text without a "warning:" prefix,
// naming the key and the fix; `ferry check-config` prints them (exit 0) and `ferry serve` logs
// them once at start.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mta/config/Config.hpp"

namespace ferry::config {

std::vector<std::string> config_warnings(const Config& cfg, std::string_view system_host_name);

}  // namespace ferry::config
