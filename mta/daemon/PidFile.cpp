// PidFile: see PidFile.hpp. Written with write-to-temp + rename so a reader never sees half.
#include "mta/daemon/PidFile.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace ferry::daemon {

std::string pid_file_path(const std::string& queue_path) { return queue_path + "/ferry.pid"; }

bool wake_daemon(const std::string& queue_path) {
  std::FILE* f = std::fopen(pid_file_path(queue_path).c_str(), "r");
  if (!f) return false;
  long pid = 0;
  const bool signalled = std::fscanf(f, "%ld", &pid) == 1 && pid > 1 && ::kill(static_cast<pid_t>(pid), SIGUSR1) == 0;
  std::fclose(f);
  return signalled;
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << getpid() << "\n";
  }
  std::rename(tmp.c_str(), path_.c_str());
}

PidFile::~PidFile() { std::remove(path_.c_str()); }

}  // namespace ferry::daemon
