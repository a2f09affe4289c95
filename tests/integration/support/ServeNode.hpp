// ServeNode: one `ferry serve` in a directory of its own, for the tests that run several nodes
// side by side (a fleet sharing Redis, a sender and its MX).
// Contract: header-only; every start writes a log of its own (log1, log2, ...), so a restarted
// node's output is its new life's; the destructor stops a node still running with one SIGTERM.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry::test {

struct ServeNode {
  std::string name;
  std::string hostname;  // default: <name>.test
  TempDir dir;
  std::unique_ptr<Background> ferry;
  int port = 0;  // the relay listener's, read from the log at each start
  int starts = 0;

  ServeNode() = default;
  explicit ServeNode(std::string n) : name(std::move(n)) {}
  ServeNode(const ServeNode&) = delete;
  ServeNode& operator=(const ServeNode&) = delete;
  ~ServeNode() {
    if (ferry && ferry->running()) EXPECT_EQ(ferry->stop(SIGTERM, 20000), 0) << ferry->output();
  }

  std::string config() const { return dir.file("ferry.toml"); }
  // ferry.toml: the host name, run as root, the queue in this directory, metrics as given ("" =
  // none), one relay listener on a kernel-chosen loopback port, then `body`.
  void write_config(const std::string& body, const std::string& metrics = "") {
    dir.write("ferry.toml", "hostname = \"" + (hostname.empty() ? name + ".test" : hostname) +
                                "\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                                "\"\nmax_size = \"64MiB\"\n[metrics]\nlisten = \"" + metrics +
                                "\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n" +
                                body);
  }
  // Starts it: waits for "ready: ", then for `wait_for` when given, and reads the port.
  void start(const std::string& wait_for = "") {
    ferry =
        std::make_unique<Background>(std::vector<std::string>{FERRY_BINARY, "serve", "--config", config()},
                                     dir.file("log" + std::to_string(++starts)));
    ASSERT_TRUE(ferry->wait_for_output("ready: ", 20000)) << ferry->output();
    if (!wait_for.empty()) ASSERT_TRUE(ferry->wait_for_output(wait_for, 10000)) << ferry->output();
    port = port_from_log(ferry->output());
    ASSERT_GT(port, 0);
  }
  bool logged(const std::string& needle) const { return ferry->output().find(needle) != std::string::npos; }
};

}  // namespace ferry::test
