// The Debian package: `cpack -G DEB` on this build tree gives a package whose control data and
// contents are what `cmake --install --prefix /usr` lays out, that lintian passes without an
// error, and that installs into a scratch root (dpkg --instdir/--admindir, maintainer scripts run
// with DPKG_ROOT), sends mail with its sendmail, keeps the queue on remove and drops it on purge.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

test::RunResult sh(const std::string& script, int timeout_s = 120) {
  return test::run({"/bin/sh", "-c", script}, {}, timeout_s);
}

std::string shq(const std::string& s) { return "'" + s + "'"; }

class DebPackage : public ::testing::Test {
 protected:
  // One package for every test of the suite: cpack reuses the built binaries (no rebuild).
  static void SetUpTestSuite() {
    out_ = new test::TempDir();
    auto r = sh("cd " + shq(out_->path()) + " && cpack -G DEB --config " +
                    shq(std::string(FERRY_BUILD_DIR) + "/CPackConfig.cmake") + " -B " + shq(out_->path()),
                300);
    build_log_ = r.out + r.err;
    for (const auto& e : fs::directory_iterator(out_->path()))
      if (e.path().extension() == ".deb") deb_ = e.path().string();
  }
  static void TearDownTestSuite() {
    delete out_;
    out_ = nullptr;
  }
  void SetUp() override { ASSERT_FALSE(deb_.empty()) << "cpack made no package:\n" << build_log_; }

  static std::string dpkg_deb(const std::string& what) {
    auto r = test::run({"/usr/bin/dpkg-deb", what, deb_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static inline test::TempDir* out_ = nullptr;
  static inline std::string deb_;
  static inline std::string build_log_;
};

TEST_F(DebPackage, IsNamedAfterPackageVersionAndArchitecture) {
  auto arch = sh("dpkg --print-architecture").out;
  arch = arch.substr(0, arch.find('\n'));
  EXPECT_EQ(fs::path(deb_).filename().string(), "ferry_0.1.0_" + arch + ".deb");
}

TEST_F(DebPackage, ControlDeclaresTheMailTransportAgentAndItsLibraries) {
  const std::string info = dpkg_deb("--info");
  EXPECT_NE(info.find(" Package: ferry\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" Section: mail\n"), std::string::npos) << info;
  // One MTA per system: the virtual package, as nullmailer, dma and Postfix declare it.
  EXPECT_NE(info.find(" Provides: mail-transport-agent\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" Conflicts: mail-transport-agent\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" Replaces: mail-transport-agent\n"), std::string::npos) << info;
  // Computed by dpkg-shlibdeps from the binaries, not written by hand.
  std::smatch depends;
  ASSERT_TRUE(std::regex_search(info, depends, std::regex(" Depends: ([^\n]*)\n"))) << info;
  for (const std::string lib : {"libssl3", "liblmdb0", "libc-ares2", "libsystemd0", "libcrypt1",
                                "libtomlplusplus3", "libstdc\\+\\+6", "libc6"})
    EXPECT_TRUE(std::regex_search(depends[1].str(), std::regex("(^|, )" + lib + "( \\(|,|$)")))
        << lib << ": " << depends[1];
  for (const char* script : {"postinst", "prerm", "postrm", "conffiles", "md5sums"})
    EXPECT_NE(info.find(std::string(" ") + script + " "), std::string::npos) << script << "\n" << info;
  auto conffiles =
      test::run({"/bin/sh", "-c", "dpkg-deb --ctrl-tarfile \"$0\" | tar -xOf - ./conffiles", deb_});
  EXPECT_EQ(conffiles.out, "/etc/ferry/ferry.toml\n") << conffiles.err;
}

TEST_F(DebPackage, ContentsAreTheInstallLayout) {
  const std::string contents = dpkg_deb("--contents");
  struct Entry {
    const char* mode;
    const char* path;
  };
  // The helper ships 0755 root:root: postinst gives it group ferry-drop and mode 2755 with
  // dpkg-statoverride, because the group's id is only known on the target system.
  for (const Entry& e : {Entry{"-rwxr-xr-x root/root", "./usr/sbin/ferry\n"},
                         Entry{"-rwxr-xr-x root/root", "./usr/sbin/ferry-postdrop\n"},
                         Entry{"lrwxrwxrwx root/root", "./usr/sbin/sendmail -> ferry\n"},
                         Entry{"lrwxrwxrwx root/root", "./usr/bin/mailq -> ../sbin/ferry\n"},
                         Entry{"lrwxrwxrwx root/root", "./usr/bin/newaliases -> ../sbin/ferry\n"},
                         Entry{"-rw-r--r-- root/root", "./etc/ferry/ferry.toml\n"},
                         Entry{"-rw-r--r-- root/root", "./lib/systemd/system/ferry.service\n"},
                         Entry{"-rw-r--r-- root/root", "./lib/systemd/system/ferry.socket\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/lib/sysusers.d/ferry.conf\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/lib/tmpfiles.d/ferry.conf\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/share/man/man8/ferry.8.gz\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/share/man/man5/ferry.toml.5.gz\n"},
                         Entry{"lrwxrwxrwx root/root", "./usr/share/man/man8/sendmail.8.gz -> ferry.8.gz\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/share/doc/ferry/copyright\n"},
                         Entry{"-rw-r--r-- root/root", "./usr/share/doc/ferry/changelog.gz\n"}}) {
    std::regex line(std::string("(^|\n)") + e.mode + " +[0-9]+ [0-9-]+ [0-9:]+ " +
                    std::regex_replace(e.path, std::regex(R"([.+*?()\[\]\\^$|])"), R"(\$&)"));
    EXPECT_TRUE(std::regex_search(contents, line)) << e.mode << " " << e.path << contents;
  }
  EXPECT_EQ(contents.find("/usr/local"), std::string::npos) << contents;
  EXPECT_EQ(contents.find("./var/"), std::string::npos) << "the queue is made by postinst:\n" << contents;
  // The installed configuration keeps its queue where tmpfiles.d/ferry.conf makes it.
  auto conf = test::run(
      {"/bin/sh", "-c", "dpkg-deb --fsys-tarfile \"$0\" | tar -xOf - ./etc/ferry/ferry.toml", deb_});
  EXPECT_NE(conf.out.find("\npath = \"/var/lib/ferry/queue\"\n"), std::string::npos) << conf.err;
}

TEST_F(DebPackage, LintianFindsNoError) {
  auto r = test::run({"/usr/bin/lintian", "--no-tag-display-limit", deb_}, {}, 240);
  // lintian exits 2 on errors; warnings are listed (and say so in the test log) but allowed.
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::regex error_line("(^|\n)E: ");
  EXPECT_FALSE(std::regex_search(r.out, error_line)) << r.out;
  std::cout << "lintian:\n" << (r.out.empty() ? std::string("(no tags)\n") : r.out);
}

// A scratch root for dpkg: its own database, log and files; nothing of the host's dpkg state is
// touched. Maintainer scripts run chrootless with DPKG_ROOT set, as the scripts support.
class ScratchRoot {
 public:
  ScratchRoot() {
    fs::create_directories(root() + "/var/lib/dpkg/info");
    fs::create_directories(root() + "/var/lib/dpkg/updates");
    dir_.write("root/var/lib/dpkg/status", "");
    dir_.write("root/var/lib/dpkg/available", "");
  }
  std::string root() const { return dir_.file("root"); }
  std::string path(const std::string& p) const { return root() + p; }
  // dpkg on the scratch root; the host's libraries satisfy the package, so missing
  // dependencies in the empty database are forced.
  test::RunResult dpkg(const std::string& args) const {
    return sh("dpkg --instdir=" + shq(root()) + " --admindir=" + shq(root() + "/var/lib/dpkg") + " --log=" +
              shq(dir_.file("dpkg.log")) + " --force-script-chrootless --force-depends " + args + " 2>&1");
  }
  const test::TempDir& dir() const { return dir_; }

 private:
  test::TempDir dir_;
};

// A bound TCP socket that never listens: a connection to it is refused at once, so mail routed
// there stays queued (deferred) without a packet leaving the host.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string field_of(const std::string& file, const std::string& name, int field) {
  auto r =
      sh("awk -F: -v n=" + shq(name) + " '$1 == n { print $" + std::to_string(field) + " }' " + shq(file));
  return r.out.substr(0, r.out.find('\n'));
}

TEST_F(DebPackage, InstallsIntoAScratchRootSendsMailAndKeepsTheQueueUntilPurge) {
  if (::geteuid() != 0) GTEST_SKIP() << "dpkg --instdir with maintainer scripts needs root";
  ScratchRoot s;
  auto install = s.dpkg("-i " + shq(deb_));
  ASSERT_EQ(install.exit_code, 0) << install.out;

  // postinst: the account and group (sysusers), the queue and maildrop (tmpfiles), the helper's
  // group and mode (statoverride), all inside the scratch root.
  const std::string uid = field_of(s.path("/etc/passwd"), "ferry", 3);
  const std::string drop_gid = field_of(s.path("/etc/group"), "ferry-drop", 3);
  ASSERT_FALSE(uid.empty()) << install.out;
  ASSERT_FALSE(drop_gid.empty()) << install.out;
  struct stat st {};
  ASSERT_EQ(::stat(s.path("/var/lib/ferry/queue").c_str(), &st), 0) << install.out;
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(std::to_string(st.st_uid), uid);
  ASSERT_EQ(::stat(s.path("/var/lib/ferry/maildrop").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01730u);
  EXPECT_EQ(std::to_string(st.st_gid), drop_gid);
  ASSERT_EQ(::stat(s.path("/usr/sbin/ferry-postdrop").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(std::to_string(st.st_gid), drop_gid);
  auto status = s.dpkg("-s ferry");
  EXPECT_NE(status.out.find("Status: install ok installed"), std::string::npos) << status.out;

  // Send with the installed binary and its sendmail link. The test runs the daemon as root (the
  // scratch root's `ferry` account is not the host's), so the queue is handed to root first.
  ASSERT_EQ(::chown(s.path("/var/lib/ferry/queue").c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(s.path("/var/lib/ferry/maildrop").c_str(), 0, -1), 0);
  RefusingPort refusing;
  ASSERT_GT(refusing.port(), 0);
  s.dir().write("test.toml", "user = \"root\"\nhostname = \"ferry.test\"\n[queue]\npath = \"" +
                                 s.path("/var/lib/ferry/queue") +
                                 "\"\nmax_size = \"16MiB\"\n"
                                 "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
                                 "[metrics]\nlisten = \"\"\n[mta_sts]\nenabled = false\n"
                                 "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
                                 std::to_string(refusing.port()) + "\"\n");
  const std::string cfg = s.dir().file("test.toml");
  auto check = test::run({s.path("/usr/sbin/ferry"), "check-config", s.path("/etc/ferry/ferry.toml")});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  {
    test::Background serve({s.path("/usr/sbin/ferry"), "serve", "--config", cfg}, s.dir().file("serve.log"));
    ASSERT_TRUE(serve.wait_for_output("ready: ", 30000)) << serve.output();
    auto sent = test::run({s.path("/usr/sbin/sendmail"), "-C", cfg, "-i", "bob@example.test"},
                          "Subject: packaged\n\nsent through the installed sendmail\n", 60);
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    // The listener's port 0 is no address sendmail can reach: as root it writes the queue itself
    // and wakes the daemon, which tries the route and defers.
    ASSERT_TRUE(serve.wait_for_output("to=<bob@example.test>", 30000)) << serve.output();
    EXPECT_EQ(serve.stop(SIGTERM, 30000), 0) << serve.output();
  }
  auto listed = test::run({s.path("/usr/sbin/ferry"), "queue", "--config", cfg, "list"});
  EXPECT_NE(listed.out.find("bob@example.test"), std::string::npos) << listed.out << listed.err;

  // remove: the programs go, the queue with its mail and the configuration stay.
  auto remove = s.dpkg("--remove ferry");
  ASSERT_EQ(remove.exit_code, 0) << remove.out;
  EXPECT_FALSE(fs::exists(s.path("/usr/sbin/ferry")));
  EXPECT_TRUE(fs::exists(s.path("/var/lib/ferry/queue/data.mdb"))) << remove.out;
  EXPECT_TRUE(fs::exists(s.path("/etc/ferry/ferry.toml")));

  // purge: the queue, the maildrop, the configuration and the stat override go.
  auto purge = s.dpkg("--purge ferry");
  ASSERT_EQ(purge.exit_code, 0) << purge.out;
  EXPECT_FALSE(fs::exists(s.path("/var/lib/ferry"))) << purge.out;
  EXPECT_FALSE(fs::exists(s.path("/etc/ferry"))) << purge.out;
  auto overrides = sh("cat " + shq(s.path("/var/lib/dpkg/statoverride")) + " 2>/dev/null");
  EXPECT_EQ(overrides.out.find("ferry-postdrop"), std::string::npos) << overrides.out;
}

}  // namespace
}  // namespace ferry
