// SecurityDaemon: a real `ferry serve` for the security tests (its own temporary queue, listeners
// on port 0 read back from the log) and a raw SMTP connection with bounded, event-driven reads.
// Contract: header-only test code; every wait has a deadline, nothing sleeps to synchronise.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::test {

// `ferry serve` with `config` after a queue section of its own; ports() are the listeners' ports.
class SecurityDaemon {
 public:
  explicit SecurityDaemon(const std::string& config, const std::string& queue_size = "64MiB") {
    dir.write("ferry.toml", "hostname = \"mx.test\"\nuser = \"root\"\n[queue]\npath = \"" +
                                dir.file("queue") + "\"\nmax_size = \"" + queue_size + "\"\n" + config);
    proc = std::make_unique<Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
    ready = proc->wait_for_output("ready: ", 30000);
    for (std::size_t i = 0; ready; ++i) {
      const int p = port_from_log(proc->output(), i);
      if (p == 0) break;
      ports.push_back(p);
    }
    ready = ready && !ports.empty();
  }

  int port(std::size_t i = 0) const { return ports.at(i); }
  std::string log() const { return proc->output(); }
  bool wait_for_log(const std::string& needle, int timeout_ms = 10000) const {
    return proc->wait_for_output(needle, timeout_ms);
  }
  // How often `needle` occurs in the log.
  std::size_t count_in_log(const std::string& needle) const {
    const std::string text = log();
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }

  std::unique_ptr<queue::QueueStore> store(std::uint64_t map_size = 64ull << 20) const {
    queue::QueueOptions q;
    q.path = dir.file("queue");
    q.read_only = true;
    q.map_size = map_size;
    auto opened = queue::QueueStore::open(q);
    return opened ? std::move(*opened) : nullptr;
  }

  TempDir dir;
  std::unique_ptr<Background> proc;
  std::vector<int> ports;
  bool ready = false;
};

// The queue id from "250 2.0.0 Ok: queued as ID" ("" when there is none).
inline std::string queued_id_of(const std::string& reply) {
  const auto at = reply.find("queued as ");
  if (at == std::string::npos) return "";
  const auto end = reply.find_first_of("\r\n ", at + 10);
  return reply.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
}

// A blocking SMTP connection to 127.0.0.1 whose reads are bounded by a deadline.
class RawSmtp {
 public:
  explicit RawSmtp(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawSmtp() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSmtp(const RawSmtp&) = delete;
  RawSmtp& operator=(const RawSmtp&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // One complete reply (every line, CRLF-separated, without the final CRLF); "" on timeout or EOF.
  std::string reply(int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      std::size_t pos = 0;
      for (auto eol = buf_.find("\r\n", pos); eol != std::string::npos; eol = buf_.find("\r\n", pos)) {
        const bool last = eol - pos < 4 || buf_[pos + 3] != '-';
        pos = eol + 2;
        if (last) {
          std::string r = buf_.substr(0, pos - 2);
          buf_.erase(0, pos);
          return r;
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char tmp[16384];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  std::string cmd(const std::string& line, int timeout_ms = 10000) {
    if (!send(line + "\r\n")) return "";
    return reply(timeout_ms);
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

}  // namespace ferry::test
