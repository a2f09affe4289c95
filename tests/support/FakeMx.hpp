// FakeMx: an in-process SMTP server with scripted replies, for delivery tests that must control
// exactly what the remote says (4xx, 5xx, drops). Contract: header-only; binds a loopback
// address (127.0.0.x) on a given or kernel-chosen port; records every message it accepted.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry::test {

struct ReceivedMessage {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // dot-unstuffed, CRLF lines, without the final ".\r\n"
};

class FakeMx {
 public:
  // Reply for one RCPT address (e.g. "250 2.1.5 Ok", "451 4.7.1 later", "550 5.1.1 no such user").
  std::function<std::string(const std::string& rcpt, int attempt)> on_rcpt = [](const std::string&, int) {
    return std::string("250 2.1.5 Ok");
  };
  // Reply after the final dot.
  std::function<std::string(const ReceivedMessage&)> on_data = [](const ReceivedMessage&) {
    return std::string("250 2.0.0 Ok: queued");
  };
  std::string greeting = "220 fake.test ESMTP";
  // Connection-level behaviour of remote servers that the delivery agent must ride out:
  // close_on_connect: 1 = close at once without a greeting (EOF), 2 = reset (RST, SO_LINGER 0).
  // close_after_messages: close the connection right after that many messages on it (as many
  // servers do), without a 421, so a pooled connection is found dead at the next RSET.
  // close_reply: instead of closing at once, answer the next command with it (e.g. "421 4.7.0
  // too many messages", RFC 5321 §3.8) and close then.
  int close_on_connect = 0;
  int close_after_messages = 0;
  std::string close_reply;
  std::string ehlo_extensions = "PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000000";
  // Answer STARTTLS with 220 and then garbage instead of a handshake (put STARTTLS into
  // ehlo_extensions to offer it).
  bool broken_starttls = false;

  FakeMx(const std::string& ip, int port = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd_);
      throw std::runtime_error("FakeMx: cannot bind " + ip + ":" + std::to_string(port));
    }
    listen(fd_, 64);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~FakeMx() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : sessions_) t.join();
  }

  int port() const { return port_; }
  std::vector<ReceivedMessage> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  int connections() const { return connections_; }
  int starttls_count() const { return starttls_; }
  int quit_count() const { return quits_; }
  // Waits until at least `n` messages were accepted (true) or `timeout` passed.
  bool wait_messages(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }

 private:
  void accept_loop() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      ++connections_;
      std::lock_guard lock(mutex_);
      sessions_.emplace_back([this, c] { serve(c); });
    }
  }

  static bool read_line(int c, std::string& buf, std::string& line) {
    for (;;) {
      auto pos = buf.find("\r\n");
      if (pos != std::string::npos) {
        line = buf.substr(0, pos);
        buf.erase(0, pos + 2);
        return true;
      }
      char tmp[4096];
      ssize_t n = recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  static void say(int c, const std::string& s) {
    std::string out = s + "\r\n";
    send(c, out.data(), out.size(), MSG_NOSIGNAL);
  }

  void serve(int c) {
    timeval tv{10, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (close_on_connect) {
      if (close_on_connect == 2) {
        linger l{1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      close(c);
      return;
    }
    say(c, greeting);
    std::string buf, line;
    ReceivedMessage msg;
    int on_this_connection = 0;
    while (read_line(c, buf, line)) {
      std::string upper = line;
      for (auto& ch : upper) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
      if (upper.rfind("EHLO", 0) == 0) {
        say(c, "250-fake.test\r\n250-" + ehlo_extensions);
      } else if (upper.rfind("HELO", 0) == 0) {
        say(c, "250 fake.test");
      } else if (upper.rfind("MAIL FROM:", 0) == 0) {
        msg = {};
        auto l = line.find('<'), r = line.find('>');
        msg.mail_from = line.substr(l + 1, r - l - 1);
        say(c, "250 2.1.0 Ok");
      } else if (upper.rfind("RCPT TO:", 0) == 0) {
        auto l = line.find('<'), r = line.find('>');
        std::string rcpt = line.substr(l + 1, r - l - 1);
        int attempt;
        {
          std::lock_guard lock(mutex_);
          attempt = ++rcpt_attempts_[rcpt];
        }
        std::string reply = on_rcpt(rcpt, attempt);
        if (reply[0] == '2') msg.rcpt_to.push_back(rcpt);
        say(c, reply);
      } else if (upper == "DATA") {
        if (msg.rcpt_to.empty()) {
          say(c, "554 5.5.1 No valid recipients");
          continue;
        }
        say(c, "354 End data with <CR><LF>.<CR><LF>");
        std::string data;
        while (read_line(c, buf, line)) {
          if (line == ".") break;
          if (!line.empty() && line[0] == '.') line.erase(0, 1);
          data += line + "\r\n";
        }
        msg.data = data;
        std::string reply = on_data(msg);
        if (reply[0] == '2') {
          std::lock_guard lock(mutex_);
          messages_.push_back(msg);
          cv_.notify_all();
        }
        say(c, reply);
        if (close_after_messages > 0 && ++on_this_connection >= close_after_messages) {
          if (close_reply.empty()) break;
          if (read_line(c, buf, line)) say(c, close_reply);
          break;
        }
      } else if (upper == "STARTTLS" && broken_starttls) {
        // Says yes, then answers the ClientHello with bytes that are not TLS and hangs up: a
        // server whose TLS is broken (bad certificate setup, middlebox), for the fallback tests.
        ++starttls_;
        say(c, "220 2.0.0 Ready to start TLS");
        char hello[512];
        (void)recv(c, hello, sizeof hello, 0);
        say(c, "this is not TLS");
        break;
      } else if (upper == "RSET" || upper == "NOOP") {
        msg = {};
        say(c, "250 2.0.0 Ok");
      } else if (upper == "QUIT") {
        ++quits_;
        say(c, "221 2.0.0 Bye");
        break;
      } else {
        say(c, "502 5.5.2 Not implemented");
      }
    }
    close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> starttls_{0};
  std::atomic<int> quits_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> sessions_;
  std::vector<ReceivedMessage> messages_;
  std::map<std::string, int> rcpt_attempts_;
};

// Two fake MX servers on different loopback addresses and the same port: delivery connects to
// every MX host on one port ([delivery] port), so a test with two MX hosts needs that. The first
// port may be taken on the second address: a few tries with a new port.
inline bool open_mx_pair(std::unique_ptr<FakeMx>& first, const std::string& first_ip,
                         std::unique_ptr<FakeMx>& second, const std::string& second_ip) {
  first = std::make_unique<FakeMx>(first_ip);
  for (int tries = 0; tries < 5; ++tries) {
    try {
      second = std::make_unique<FakeMx>(second_ip, first->port());
      return true;
    } catch (...) {
      first = std::make_unique<FakeMx>(first_ip);
    }
  }
  return false;
}

}  // namespace ferry::test
