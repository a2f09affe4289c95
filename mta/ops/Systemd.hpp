// Systemd: the service manager protocol (sd_notify(3), sd_listen_fds(3)) for Type=notify units
// and socket activation. Contract: every call is a no-op outside systemd (no NOTIFY_SOCKET, no
// LISTEN_FDS), so the daemon runs the same by hand, under systemd or in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ops::systemd {

void notify_ready(std::string_view status);   // READY=1 + STATUS=
void notify_reloading();                      // RELOADING=1 (READY=1 follows when done)
void notify_stopping();                       // STOPPING=1
void notify_status(std::string_view status);  // STATUS=
void notify_watchdog();                       // WATCHDOG=1

// Half of WatchdogSec= when the watchdog is on for this process (the interval to ping at).
std::optional<std::chrono::microseconds> watchdog_ping_interval();

// Descriptors passed by socket activation (LISTEN_FDS / LISTEN_PID), taken once; the variables
// are unset so children do not see them.
std::vector<int> take_listen_fds();

// The descriptor's bound IP literal and port, if it is a listening TCP socket.
std::optional<std::pair<std::string, std::uint16_t>> bound_address(int fd);

}  // namespace ferry::ops::systemd
