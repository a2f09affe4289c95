// DaemonQueue: see DaemonQueue.hpp. The order matters: the lock is taken before recovery,
// because two daemons recovering one queue would hand each other's attempts out again.
#include "mta/daemon/DaemonQueue.hpp"

#include "mta/ops/QueueDirCheck.hpp"

namespace ferry::daemon {

Result<DaemonQueue> open_daemon_queue(const config::Config& config) {
  DaemonQueue q;
  auto user = ops::resolve_run_user(config.user);
  if (!user) return user.error();
  q.user = *user;
  const std::string& path = config.queue.path;
  if (auto checked = ops::check_queue_dir(path, q.user);
      !checked && checked.error().kind != ErrorKind::NotFound)
    return checked.error();
  ops::AsRunUser as_owner(q.user);
  if (!as_owner.ok())
    return make_error(ErrorKind::Io, "cannot switch to user " + q.user.name + ": " + as_owner.error());
  queue::QueueOptions options;
  options.path = path;
  options.map_size = config.queue.max_size;
  options.sync = config.queue.sync;
  auto opened = queue::QueueStore::open(options);
  if (!opened)
    return make_error(ErrorKind::Io, "cannot open the queue at " + path + ": " + opened.error().message);
  q.store = std::move(*opened);
  auto pid = ops::PidFile::acquire(path);
  if (!pid) return pid.error();
  q.pid = std::move(*pid);
  return q;
}

}  // namespace ferry::daemon
