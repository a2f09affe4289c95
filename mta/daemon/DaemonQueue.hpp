// DaemonQueue: the daemon's start-up access to its queue: who runs it, the directory check, the
// environment opened with the owner's rights, and the pid-file lock that keeps a second daemon off.
// Contract: nothing is opened as root through a path the queue's owner controls; errors say
// why: Invalid (configuration or ownership: exit 78), Busy (another daemon: exit 75), else Io.
#pragma once

#include <memory>
#include <string>

#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/ops/PidFile.hpp"
#include "mta/ops/RunUser.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::daemon {

struct DaemonQueue {
  ops::RunUser user;  // drop to it once the listeners are bound
  std::unique_ptr<queue::QueueStore> store;
  std::unique_ptr<ops::PidFile> pid;  // held until the daemon stops
};

Result<DaemonQueue> open_daemon_queue(const config::Config& config);

}  // namespace ferry::daemon
