// QuietSpawn: starts a test server (dnsmasq, redis-server) as a child with its output discarded.
// Contract: returns the child's pid (-1 if fork failed); the caller waits for it to serve and
// reaps it. argv[0] is the program's full path.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ferry::test {

inline pid_t spawn_quiet(std::vector<std::string> argv) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  std::vector<char*> c;
  for (auto& a : argv) c.push_back(a.data());
  c.push_back(nullptr);
  const int devnull = ::open("/dev/null", O_WRONLY);
  dup2(devnull, 1);
  dup2(devnull, 2);
  execv(c[0], c.data());
  _exit(127);
}

}  // namespace ferry::test
