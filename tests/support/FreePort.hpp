// FreePort: a loopback port the kernel says is free now, for test servers that cannot bind port 0
// and report it (dnsmasq, redis-server, nsd, unbound). Contract: a hint only — another process may
// take it before the server binds, so every caller checks that its own server answers and retries.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ferry::test {

// `type` is SOCK_STREAM or SOCK_DGRAM; 0 if no socket could be made.
inline int free_loopback_port(int type) {
  const int fd = socket(AF_INET, type, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

}  // namespace ferry::test
