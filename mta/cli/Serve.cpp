// Serve: `ferry serve [--config FILE]` loads and validates the configuration (same errors and
// exit code 78 as check-config) and hands it to the daemon.
#include <cstdio>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/daemon/Daemon.hpp"

namespace ferry::cli {

int cmd_serve(const Args& raw) {
  daemon::hold_daemon_signals();  // until the daemon's handlers exist (see Daemon.hpp)
  CommonOptions common;
  Args rest;
  if (int rc = parse_common_options(raw, common, rest); rc != kExitOk) return rc;
  if (!rest.empty()) {
    std::fprintf(stderr, "ferry serve: unexpected argument '%s'\nusage: ferry serve [--config FILE]\n",
                 rest.front().c_str());
    return kExitUsage;
  }
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  return daemon::run_daemon(*config, common.config_path);
}

}  // namespace ferry::cli
