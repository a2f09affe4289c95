// PidFile: `<queue>/ferry.pid` names the running daemon so `ferry queue` can wake it (SIGUSR1).
// Contract: written at start-up, removed on a clean stop; a stale file is harmless (kill fails).
#pragma once

#include <string>

namespace ferry::daemon {

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
