// OpsSupport: small blocking clients for the operations tests (metrics, reload, systemd): an SMTP dialogue
// helper, an HTTP GET, a Prometheus sample lookup and a free-port finder.
// Contract: header-only, test code; every read has a timeout so a broken daemon fails a test
// instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "support/FreePort.hpp"

namespace ferry::test {

inline int free_port() { return free_loopback_port(SOCK_STREAM); }

inline int connect_local(int port, int timeout_s = 10) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One SMTP connection: reply() reads one whole reply, cmd() sends a line and reads the reply.
struct Smtp {
  int fd = -1;
  std::string buf;
  explicit Smtp(int port) : fd(connect_local(port)) {}
  ~Smtp() {
    if (fd >= 0) ::close(fd);
  }
  bool ok() const { return fd >= 0; }
  std::string reply() {
    std::string text;
    for (;;) {
      auto nl = buf.find("\r\n");
      if (nl == std::string::npos) {
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return text;  // "" = connection closed or timed out
        buf.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      std::string line = buf.substr(0, nl + 2);
      buf.erase(0, nl + 2);
      text += line;
      if (line.size() < 4 || line[3] != '-') return text;
    }
  }
  bool send(const std::string& data) {
    return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  std::string cmd(const std::string& line) {
    if (!send(line + "\r\n")) return {};
    return reply();
  }
  // A whole transaction; returns the reply to the final dot (or the first failing reply).
  std::string message(const std::string& from, const std::string& rcpt, const std::string& body) {
    std::string r = cmd("MAIL FROM:<" + from + ">");
    if (!r.starts_with("250")) return r;
    r = cmd("RCPT TO:<" + rcpt + ">");
    if (!r.starts_with("250")) {
      cmd("RSET");
      return r;
    }
    r = cmd("DATA");
    if (!r.starts_with("354")) return r;
    if (!send(body + "\r\n.\r\n")) return {};
    return reply();
  }
};

// The queue id from "250 2.0.0 Ok: queued as ID".
inline std::string queued_id(const std::string& reply) {
  auto at = reply.find("queued as ");
  if (at == std::string::npos) return {};
  auto end = reply.find_first_of("\r\n ", at + 10);
  return reply.substr(at + 10, end - at - 10);
}

// GET path over HTTP/1.1 (Connection: close): the status code and the whole response.
inline std::pair<int, std::string> http_get(int port, const std::string& path) {
  int fd = connect_local(port);
  if (fd < 0) return {0, {}};
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char chunk[8192];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  int status = out.size() > 12 ? std::atoi(out.substr(9, 3).c_str()) : 0;
  return {status, out};
}

// The value of the sample `name` (with its labels, e.g. `x_total{result="ok"}`) in a page.
inline std::optional<double> sample(const std::string& page, const std::string& name_and_labels) {
  const std::string key = "\n" + name_and_labels + " ";
  auto at = page.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(page.c_str() + at + key.size(), nullptr);
}

// The port from a log line "<prefix>IP:PORT..." (e.g. "listening on 127.0.0.1:").
inline int port_after(const std::string& log, const std::string& prefix) {
  auto at = log.find(prefix);
  if (at == std::string::npos) return 0;
  return std::atoi(log.c_str() + at + prefix.size());
}

}  // namespace ferry::test
