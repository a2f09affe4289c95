// Daemon: wires the queue, the listeners and the delivery agent together and runs them.
// Contract: run() returns the process exit code after a staged shutdown (SIGTERM / SIGINT).
#pragma once

#include "mta/config/Config.hpp"

namespace ferry::daemon {

int run_daemon(const config::Config& config);

}  // namespace ferry::daemon
