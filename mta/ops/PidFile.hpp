// PidFile: `<queue>/ferry.pid`, locked (fcntl write lock) by the daemon for its whole life.
// Contract: the lock, not the file's text, says which process runs on a queue: a second daemon
// refuses to start while it is held, and clients signal only the process the kernel reports
// as holding it, so a stale file never gets an unrelated process signalled.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "ferry/Result.hpp"

namespace ferry::ops {

// `<queue>/ferry.pid` for the queue at `queue_path`.
std::string pid_file_path(const std::string& queue_path);

// The pid of the daemon holding the lock on `queue_path`'s pid file, if one does.
std::optional<pid_t> running_daemon(const std::string& queue_path);

// Tells the daemon running on `queue_path` (if any) that the queue changed, so it re-reads it now:
// over its control socket, else SIGUSR1 to the lock holder. Used by `ferry queue
// flush|hold|release|delete` and by sendmail's direct enqueue. False when no daemon was reached
// (nothing is signalled then).
bool wake_daemon(const std::string& queue_path);

class PidFile {
 public:
  // Creates (never through a symbolic link) and locks the pid file, and writes our pid into it.
  // Busy when another process holds the lock (the message names it).
  static Result<std::unique_ptr<PidFile>> acquire(const std::string& queue_path);
  ~PidFile();  // removes the file, then releases the lock
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  PidFile(int dir, int fd) : dir_(dir), fd_(fd) {}
  int dir_ = -1;
  int fd_ = -1;
};

}  // namespace ferry::ops
