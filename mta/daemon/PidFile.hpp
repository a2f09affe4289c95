// PidFile: `<queue>/ferry.pid` names the running daemon so `ferry queue` can wake it (SIGUSR1).
// Contract: written at start-up, removed on a clean stop; a stale file is harmless (kill fails).
#pragma once

#include <string>

namespace ferry::daemon {

// `<queue>/ferry.pid` for the queue at `queue_path`.
std::string pid_file_path(const std::string& queue_path);

// Tells the daemon running on `queue_path` (if any) that the queue changed, so it re-reads it now
// (SIGUSR1). Used by `ferry queue flush|hold|release|delete` and by sendmail's direct enqueue.
// Returns false when no daemon could be signalled (no pid file, or a stale one).
bool wake_daemon(const std::string& queue_path);

class PidFile {
 public:
  explicit PidFile(std::string path);
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  std::string path_;
};

}  // namespace ferry::daemon
