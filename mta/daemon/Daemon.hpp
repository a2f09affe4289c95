// Daemon: wires the queue, the listeners and the delivery agent together and runs them.
// Contract: run() returns the process exit code after a staged shutdown (SIGTERM / SIGINT):
// 0 clean, 71 bind / privilege failure, 75 queue cannot open or another daemon runs on it, 78
// configuration / TLS / DNS, a missing run user or a queue directory with the wrong owner.
#pragma once

#include <optional>
#include <string>

#include "mta/config/Config.hpp"

namespace ferry::daemon {

// Holds SIGTERM, SIGINT, SIGHUP and SIGUSR1 until run_daemon has its handlers: systemd may send
// a stop or a reload while the daemon is still starting, and their default action (terminate)
// would end it half-started. Call first thing in `ferry serve`; threads started meanwhile
// inherit the blocked mask, so only the I/O thread ever takes these signals.
void hold_daemon_signals();

int run_daemon(const config::Config& config);
// `config_path` is the file SIGHUP reloads (nullopt = the embedded default).
int run_daemon(const config::Config& config, const std::optional<std::string>& config_path);

}  // namespace ferry::daemon
