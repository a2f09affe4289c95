// Log: see Log.hpp. A mutex keeps lines whole when several threads log at once.
#include "mta/daemon/Log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace ferry::daemon {

void log(LogLevel level, std::string_view line) {
  static std::mutex mutex;
  std::string out = "ferry: ";
  if (level == LogLevel::Warning) out += "warning: ";
  if (level == LogLevel::Error) out += "error: ";
  out.append(line);
  out.push_back('\n');
  std::lock_guard lock(mutex);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ferry::daemon
