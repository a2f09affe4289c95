// RedisServer: a private redis-server for a test, on a free loopback port with its own empty
// directory and no persistence. Contract: header-only; started and ready (it answered PING) on
// construction, killed on destruction; kill() and start() again on the same port simulate an
// outage. Throws when Debian's redis-server is missing or does not start.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "FreePort.hpp"
#include "QuietSpawn.hpp"

namespace ferry::test {

class RedisServer {
 public:
  // `password`: requirepass, empty = none.
  explicit RedisServer(std::string password = "") : password_(std::move(password)) {
    char tmpl[] = "/tmp/ferry-redis-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    // redis-server cannot report a kernel-chosen port: take a free one and retry with another
    // when redis loses the race for it.
    for (int tries = 0; tries < 10 && pid_ <= 0; ++tries) {
      port_ = free_tcp_port();
      start();
    }
    if (pid_ <= 0) throw std::runtime_error("redis-server did not start");
  }
  ~RedisServer() {
    kill();
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }

  // Starts (again) on port(); true once it answers PING within 5 s.
  bool start() {
    if (pid_ > 0) return true;
    std::vector<std::string> argv{find(),   "--bind", "127.0.0.1",    "--port", std::to_string(port_),
                                  "--save", "",       "--appendonly", "no",     "--dir",
                                  dir_};
    if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_});
    pid_t pid = spawn_quiet(argv);
    for (int i = 0; i < 500; ++i) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) return false;
      if (answers()) {
        pid_ = pid;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return false;
  }
  // SIGKILL: the outage a crashed or unplugged Redis is.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  static std::string find() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/sbin/redis-server"})
      if (access(p, X_OK) == 0) return p;
    throw std::runtime_error("redis-server not installed (Debian package redis-server)");
  }

 private:
  static int free_tcp_port() { return free_loopback_port(SOCK_STREAM); }

  // Any reply to PING (+PONG, or -NOAUTH with a password) means this redis serves the port.
  bool answers() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    timeval tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
      char buf[64];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      ok = n > 0 && (buf[0] == '+' || buf[0] == '-');
    }
    close(fd);
    return ok;
  }

  std::string password_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ferry::test
