// PidFile: see PidFile.hpp. Written with write-to-temp + rename so a reader never sees half.
#include "mta/daemon/PidFile.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace ferry::daemon {

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
