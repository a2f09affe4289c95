// Integration: systemd and installation. sd_notify READY / RELOADING / STOPPING /
// WATCHDOG seen on a fake NOTIFY_SOCKET; socket activation through systemd-socket-activate
// (LISTEN_FDS); `systemd-analyze verify` on the units; sysusers and tmpfiles applied to a scratch
// root; the `cmake --install` layout with and without the sendmail component.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

std::string config_text(const test::TempDir& dir, int port) {
  return "hostname = \"mx.ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
         "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = " + std::to_string(port) +
         "\nmode = \"relay\"\n[metrics]\nlisten = \"\"\n";
}

// A datagram socket standing in for systemd's notification socket.
struct NotifySocket {
  int fd = -1;
  std::string path;
  std::string seen;
  explicit NotifySocket(const std::string& p) : path(p) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd); }
  // Reads datagrams until `needle` has been seen (after `from`) or the time is up.
  bool wait_for(const std::string& needle, std::size_t from = 0, int timeout_ms = 10000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (seen.find(needle, from) == std::string::npos) {
      if (std::chrono::steady_clock::now() > end) return false;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) seen.append(buf, static_cast<std::size_t>(n)).append("\n--\n");
    }
    return true;
  }
};

TEST(systemd_Notify, ReadyReloadingWatchdogStopping) {
  test::TempDir dir;
  dir.write("ferry.toml", config_text(dir, 0));
  NotifySocket notify(dir.file("notify.sock"));
  ::setenv("NOTIFY_SOCKET", notify.path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);  // ping every 100 ms
  test::Background d({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(notify.wait_for("READY=1")) << notify.seen << d.output();
  EXPECT_TRUE(d.output().find("ready: ") != std::string::npos)
      << "READY=1 comes after the listeners are bound";
  EXPECT_NE(notify.seen.find("STATUS=accepting mail"), std::string::npos) << notify.seen;
  std::size_t mark = notify.seen.size();
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", mark)) << notify.seen;
  mark = notify.seen.size();
  ::kill(d.pid(), SIGHUP);
  EXPECT_TRUE(notify.wait_for("RELOADING=1", mark)) << notify.seen;
  EXPECT_TRUE(notify.wait_for("READY=1", notify.seen.find("RELOADING=1", mark))) << notify.seen;
  EXPECT_NE(notify.seen.find("MONOTONIC_USEC="), std::string::npos);
  mark = notify.seen.size();
  ::kill(d.pid(), SIGTERM);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", mark)) << notify.seen;
  EXPECT_EQ(d.stop(0), 0);  // waits for that stop: a second SIGTERM would race its end
}

TEST(systemd_SocketActivation, UsesThePassedListeningSocket) {
  test::TempDir dir;
  const int port = test::free_port();
  dir.write("ferry.toml", config_text(dir, port));
  // systemd-socket-activate binds the port, waits for a connection, then runs ferry with
  // LISTEN_FDS=1 (fd 3), as ferry.socket + ferry.service do.
  test::Background d({"/usr/bin/systemd-socket-activate", "-l", "127.0.0.1:" + std::to_string(port),
                      FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")},
                     dir.file("log"));
  ASSERT_TRUE(d.wait_for_output("Listening on")) << d.output();
  test::Smtp c(port);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.reply().starts_with("220 mx.ferry.test")) << d.output();
  EXPECT_NE(d.output().find("socket activation: 1 sockets passed by systemd"), std::string::npos)
      << d.output();
  EXPECT_NE(d.output().find("listening on 127.0.0.1:" + std::to_string(port)), std::string::npos);
  c.cmd("EHLO c.example");
  EXPECT_TRUE(c.message("a@example.org", "b@example.net", "Subject: s\r\n\r\nb").starts_with("250"));
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.output();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(systemd_Units, SystemdAnalyzeVerifyPasses) {
  test::TempDir dir;
  // The unit names /usr/sbin/ferry; verify checks that the binary exists, so point it at ours.
  std::string service = read_file(std::string(FERRY_SOURCE_DIR) + "/systemd/ferry.service");
  for (auto p = service.find("/usr/sbin/ferry"); p != std::string::npos;
       p = service.find("/usr/sbin/ferry", p + 1))
    service.replace(p, 15, FERRY_BINARY);
  dir.write("ferry.service", service);
  dir.write("ferry.socket", read_file(std::string(FERRY_SOURCE_DIR) + "/systemd/ferry.socket"));
  auto r = test::run({"/bin/sh", "-c",
                      "cd " + dir.path() + " && systemd-analyze verify ./ferry.service ./ferry.socket 2>&1"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "") << "no warnings";
  for (const char* key : {"Type=notify", "User=ferry", "StateDirectory=ferry", "ConfigurationDirectory=ferry",
                          "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict",
                          "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "NoNewPrivileges=yes",
                          "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
                          "MemoryDenyWriteExecute=yes", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec="})
    EXPECT_NE(service.find(key), std::string::npos) << key;
}

TEST(systemd_Units, SysusersAndTmpfilesApplyToAScratchRoot) {
  test::TempDir root;
  ::mkdir(root.file("etc").c_str(), 0755);
  auto users = test::run({"/usr/bin/systemd-sysusers", "--root=" + root.path(),
                          std::string(FERRY_SOURCE_DIR) + "/systemd/ferry.sysusers"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  EXPECT_NE(read_file(root.file("etc/passwd")).find("ferry:x:"), std::string::npos);
  auto tmp = test::run({"/usr/bin/systemd-tmpfiles", "--create", "--root=" + root.path(),
                        std::string(FERRY_SOURCE_DIR) + "/systemd/ferry.tmpfiles"});
  ASSERT_EQ(tmp.exit_code, 0) << tmp.err;
  struct stat st {};
  ASSERT_EQ(::stat(root.file("var/lib/ferry/queue").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "the queue is the service account's alone";
  EXPECT_NE(st.st_uid, 0u) << "owned by the ferry account";
  // The maildrop: ferry's, group ferry-drop (the setgid postdrop's), sticky, no reading for others.
  EXPECT_NE(read_file(root.file("etc/group")).find("ferry-drop:x:"), std::string::npos);
  ASSERT_EQ(::stat(root.file("var/lib/ferry/maildrop").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01730u);
  EXPECT_NE(st.st_gid, 0u);
  ASSERT_EQ(::stat(root.file("var/lib/ferry").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "every user passes through to the maildrop";
}

// The build directory: FERRY_BINARY is <build>/mta/cli/ferry.
std::string build_dir() {
  std::string b = FERRY_BINARY;
  return b.substr(0, b.rfind("/mta/cli/ferry"));
}

TEST(systemd_Install, LayoutWithAndWithoutTheSendmailComponent) {
  test::TempDir dest;
  auto all = test::run(
      {"/usr/bin/env", "DESTDIR=" + dest.file("all"), "cmake", "--install", build_dir(), "--prefix", "/usr"});
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err;
  const std::string root = dest.file("all");
  struct stat st {};
  EXPECT_EQ(::stat((root + "/usr/sbin/ferry").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  EXPECT_EQ(::stat((root + "/usr/sbin/ferry-postdrop").c_str(), &st), 0) << "the maildrop helper";
  char target[256] = {};
  ASSERT_GT(::readlink((root + "/usr/sbin/sendmail").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "ferry");
  std::fill(std::begin(target), std::end(target), 0);
  ASSERT_GT(::readlink((root + "/usr/bin/mailq").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "../sbin/ferry");
  EXPECT_EQ(::lstat((root + "/usr/bin/newaliases").c_str(), &st), 0);
  const std::string toml = read_file(root + "/etc/ferry/ferry.toml");
  EXPECT_NE(toml.find("path = \"/var/lib/ferry/queue\""), std::string::npos);
  // For the prefix /usr the units go where Debian 12 keeps them (its systemdsystemunitdir).
  EXPECT_NE(read_file(root + "/lib/systemd/system/ferry.service")
                .find("ExecStart=/usr/sbin/ferry serve --config /etc/ferry/ferry.toml"),
            std::string::npos);
  EXPECT_EQ(::stat((root + "/lib/systemd/system/ferry.socket").c_str(), &st), 0);
  EXPECT_EQ(::stat((root + "/usr/lib/sysusers.d/ferry.conf").c_str(), &st), 0);
  EXPECT_EQ(::stat((root + "/usr/lib/tmpfiles.d/ferry.conf").c_str(), &st), 0);
  // The installed configuration is valid, and the installed sendmail link works.
  auto check = test::run({root + "/usr/sbin/ferry", "check-config", root + "/etc/ferry/ferry.toml"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  auto version = test::run({root + "/usr/sbin/sendmail", "-bi"});
  EXPECT_EQ(version.exit_code, 0) << version.err;

  // Without the sendmail component (another MTA owns those names), and to another prefix.
  auto only = test::run({"/usr/bin/env", "DESTDIR=" + dest.file("only"), "cmake", "--install", build_dir(),
                         "--prefix", "/opt/ferry", "--component", "ferry"});
  ASSERT_EQ(only.exit_code, 0) << only.out << only.err;
  EXPECT_EQ(::stat(dest.file("only/opt/ferry/sbin/ferry").c_str(), &st), 0);
  EXPECT_NE(::lstat(dest.file("only/opt/ferry/sbin/sendmail").c_str(), &st), 0);
  EXPECT_NE(read_file(dest.file("only/opt/ferry/lib/systemd/system/ferry.service"))
                .find("ExecStart=/opt/ferry/sbin/ferry serve"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry
