// DnsServer: a real DNS server (dnsmasq from Debian's dnsmasq-base) on a loopback port, serving
// MX / A / AAAA / raw records for test domains. Contract: header-only; the process is killed
// when the object goes away; every name under `.test` not configured answers NXDOMAIN.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "FreePort.hpp"
#include "QuietSpawn.hpp"

namespace ferry::test {

class DnsServer {
 public:
  // `records` are dnsmasq options, e.g. "--mx-host=example.test,mx1.example.test,10",
  // "--host-record=mx1.example.test,127.0.0.2", "--dns-rr=nullmx.test,15,000000".
  explicit DnsServer(std::vector<std::string> records) {
    // dnsmasq cannot bind port 0 and report it, so we ask the kernel for a free port and retry
    // a few times if dnsmasq loses the race for it.
    for (int tries = 0; tries < 10 && pid_ <= 0; ++tries) {
      port_ = free_udp_port();
      std::vector<std::string> argv{find_dnsmasq(),
                                    "--keep-in-foreground",
                                    "--conf-file=/dev/null",
                                    "--no-resolv",
                                    "--no-hosts",
                                    "--no-poll",
                                    "--bind-interfaces",
                                    "--listen-address=127.0.0.1",
                                    "--port=" + std::to_string(port_),
                                    "--local=/test/",
                                    "--user=root",
                                    "--pid-file=",
                                    "--log-facility=-",
                                    "--cache-size=0",
                                    "--local-ttl=60"};
      argv.insert(argv.end(), records.begin(), records.end());
      pid_t pid = spawn_quiet(argv);
      // Wait until it answers a query on the port, or exits. A bound port alone proves nothing:
      // another test's socket may hold it, and then this dnsmasq exits while the port looks taken.
      for (int i = 0; i < 100; ++i) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
          pid = -1;
          break;
        }
        if (answers(port_)) {
          pid_ = pid;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (pid_ <= 0 && pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
    if (pid_ <= 0) throw std::runtime_error("dnsmasq did not start");
  }
  ~DnsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  static std::string find_dnsmasq() {
    for (const char* p : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"})
      if (access(p, X_OK) == 0) return p;
    throw std::runtime_error("dnsmasq not installed (Debian package dnsmasq-base)");
  }

 private:
  static int free_udp_port() { return free_loopback_port(SOCK_DGRAM); }

  // One query for probe.test A: any answer with our id (NXDOMAIN is one) means it serves.
  static bool answers(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    static const unsigned char query[] = {
        0x4e, 0x21, 0x01, 0x00, 0,   1,   0, 0,   0,   0,   0,   0,               // id, RD, 1 question
        5,    'p',  'r',  'o',  'b', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};  // A, IN
    timeval wait{0, 100 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    bool ok = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && send(fd, query, sizeof query, 0) > 0) {
      unsigned char reply[512];
      const ssize_t n = recv(fd, reply, sizeof reply, 0);
      ok = n >= 12 && reply[0] == query[0] && reply[1] == query[1] && (reply[2] & 0x80);
    }
    close(fd);
    return ok;
  }

  int port_ = 0;
  pid_t pid_ = -1;
};

// The zone the delivery and probe tests share (dnsmasq options), with fake MX servers on
// 127.0.0.2 (mx1) and 127.0.0.3 (mx2) and nothing on 127.0.0.9:
//   example.test   MX 10 mx1                      the plain case
//   failover.test  MX 10 dead (refuses), MX 20 mx2  failover to the second MX
//   implicit.test  no MX, A 127.0.0.2             implicit MX (RFC 5321 §5.1)
//   nullmx.test    MX 0 "."                       null MX (RFC 7505)
inline std::vector<std::string> loopback_mx_zone() {
  return {
      "--mx-host=example.test,mx1.example.test,10",    "--host-record=mx1.example.test,127.0.0.2",
      "--mx-host=failover.test,dead.failover.test,10", "--mx-host=failover.test,mx2.failover.test,20",
      "--host-record=dead.failover.test,127.0.0.9",    "--host-record=mx2.failover.test,127.0.0.3",
      "--host-record=implicit.test,127.0.0.2",         "--dns-rr=nullmx.test,15,000000",
  };
}

}  // namespace ferry::test
