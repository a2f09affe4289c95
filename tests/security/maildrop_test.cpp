// Security: sendmail for every local user while the daemon is down. An unprivileged user (nobody)
// cannot write the queue; sendmail hands the message to the setgid ferry-postdrop, which leaves
// it in the maildrop (1730, a throw-away group standing in for ferry-drop); the daemon imports it
// at start and while running, with the file's owner as the sender. Files any local user could
// plant there (links, hard links, garbage, oversized, unfinished) never crash or fool it.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The names in `dir` that start with `prefix`.
std::vector<std::string> names(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path().filename().string());
  return out;
}

class maildrop_Security : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string config = dir.file("ferry.toml");
  std::string group_name = "ferrytest" + std::to_string(::getpid());
  std::string maildrop = dir.file("maildrop");
  std::string bin = dir.file("bin");
  gid_t gid = 0;

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a throw-away group, a setgid helper, setpriv)";
    ASSERT_EQ(test::run({"/usr/sbin/groupadd", "--system", group_name}).exit_code, 0);
    group* g = ::getgrnam(group_name.c_str());
    ASSERT_NE(g, nullptr);
    gid = g->gr_gid;
    ::chmod(dir.path().c_str(), 0755);
    write_config("");
    // The maildrop as tmpfiles.d makes it: the run user's (root here), group ferry-drop, 1730.
    ASSERT_EQ(::mkdir(maildrop.c_str(), 0700), 0);
    ASSERT_EQ(::chown(maildrop.c_str(), 0, gid), 0);
    ASSERT_EQ(::chmod(maildrop.c_str(), 01730), 0);
    // ferry and ferry-postdrop as `cmake --install` lays them out: the helper setgid.
    ASSERT_EQ(::mkdir(bin.c_str(), 0755), 0);
    const std::string built = fs::path(FERRY_BINARY).parent_path().string();
    fs::copy_file(FERRY_BINARY, bin + "/ferry");
    fs::copy_file(built + "/ferry-postdrop", bin + "/ferry-postdrop");
    ASSERT_EQ(::chown((bin + "/ferry-postdrop").c_str(), 0, gid), 0);
    ASSERT_EQ(::chmod((bin + "/ferry-postdrop").c_str(), 02755), 0);
    // The queue exists (root's, mode 0700): nobody cannot write it.
    ASSERT_EQ(queue({"list"}).exit_code, 0);
  }
  void TearDown() override {
    if (::geteuid() == 0) test::run({"/usr/sbin/groupdel", group_name});
  }
  void write_config(const std::string& extra) const {
    // The listener's port is 0: sendmail finds no daemon to talk to, as when it is stopped.
    dir.write("ferry.toml",
              "hostname = \"mx.ferry.test\"\nuser = \"root\"\n" + extra + "[queue]\npath = \"" +
                  dir.file("q") +
                  "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\n"
                  "port = 0\nmode = \"relay\"\n[metrics]\nlisten = \"\"\n[retry]\nfirst = \"1h\"\n"
                  "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:1\"\n");
  }
  test::RunResult as_nobody(std::vector<std::string> argv, const std::string& input = {}) {
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return test::run(argv, input);
  }
  test::RunResult sendmail_as_nobody(const std::string& rcpt, const std::string& body) {
    return as_nobody({bin + "/ferry", "sendmail", "-C", config, "-f", "ceo@bank.example", rcpt}, body);
  }
  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
  std::unique_ptr<test::Background> start(const std::string& log) {
    auto d = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", config}, dir.file(log));
    EXPECT_TRUE(d->wait_for_output("ready: ", 20000)) << d->output();
    return d;
  }
  // A file in the maildrop as a local user could leave it.
  void plant(const std::string& name, const std::string& content, mode_t mode = 0644) const {
    dir.write("maildrop/" + name, content);
    ASSERT_EQ(::chown((maildrop + "/" + name).c_str(), kNobody, gid), 0);
    ASSERT_EQ(::chmod((maildrop + "/" + name).c_str(), mode), 0);
  }
};

TEST_F(maildrop_Security, UnprivilegedUserWithTheDaemonStoppedThenStarted) {
  auto sent = sendmail_as_nobody("x@example.org", "Subject: cron\n\nnightly report\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto files = names(maildrop, "m.");
  ASSERT_EQ(files.size(), 1u);
  struct stat st {};
  ASSERT_EQ(::stat((maildrop + "/" + files[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody) << "written with the user's own uid";
  EXPECT_EQ(st.st_gid, gid) << "through the setgid helper";
  EXPECT_EQ(queue({"list"}).out, "Mail queue is empty\n") << "the queue itself was not touched";

  auto d = start("serve.log");
  ASSERT_TRUE(d->wait_for_output("queued from maildrop " + files[0])) << d->output();
  EXPECT_TRUE(names(maildrop, "m.").empty()) << "imported files are removed";
  auto list = queue({"list", "--json"});
  EXPECT_NE(list.out.find("x@example.org"), std::string::npos) << list.out;
  // The sender is the file's owner, not what the user claimed with -f.
  EXPECT_NE(list.out.find("nobody@mx.ferry.test"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("ceo@bank.example"), std::string::npos) << list.out;
  const auto at = list.out.find("\"id\":");
  ASSERT_NE(at, std::string::npos);
  const auto q1 = list.out.find('"', list.out.find(':', at) + 1) + 1;
  auto show = queue({"show", list.out.substr(q1, list.out.find('"', q1) - q1)});
  EXPECT_NE(show.out.find("(Ferry, from userid 65534)"), std::string::npos) << show.out;

  // While it runs (it has no fixed port for sendmail here), the periodic scan takes new files.
  ASSERT_EQ(sendmail_as_nobody("y@example.org", "Subject: second\n\nb\n").exit_code, 0);
  for (int i = 0; i < 200 && queue({"list"}).out.find("y@example.org") == std::string::npos; ++i)
    usleep(100 * 1000);
  EXPECT_NE(queue({"list"}).out.find("y@example.org"), std::string::npos);
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

TEST_F(maildrop_Security, HostileFilesAreSetAsideWithoutHarm) {
  write_config("[smtp]\nmax_message_size = \"64KiB\"\n");
  dir.write("victim", "root only\n");
  ::chmod(dir.file("victim").c_str(), 0600);
  ASSERT_EQ(::symlink(dir.file("victim").c_str(), (maildrop + "/m.link").c_str()), 0);
  plant("m.garbage", std::string("\0\xff garbage\n\n", 12));
  plant("m.claims",
        "ferry-maildrop 1\nsender ceo@bank.example\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n");
  plant("m.norcpt", "ferry-maildrop 1\n\nSubject: s\r\n\r\nb\r\n");
  plant("m.big", "ferry-maildrop 1\nrcpt x@example.org\n\n" + std::string(200 * 1024, 'a'));
  plant("m.badrcpt", "ferry-maildrop 1\nrcpt x@example.org\r\nRCPT TO:<y@example.org>\n\nb\r\n");
  dir.write("outside", "ferry-maildrop 1\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n");
  ASSERT_EQ(::chown(dir.file("outside").c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::link(dir.file("outside").c_str(), (maildrop + "/m.hardlink").c_str()), 0);
  // Unfinished (postdrop makes it readable only once it is complete): left alone.
  plant("m.unfinished", "ferry-maildrop 1\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n", 0200);

  auto d = start("serve.log");
  for (const char* name : {"m.link", "m.garbage", "m.claims", "m.norcpt", "m.big", "m.badrcpt", "m.hardlink"})
    EXPECT_TRUE(d->wait_for_output(std::string("maildrop: ") + name + " refused", 20000))
        << name << d->output();
  EXPECT_TRUE(d->running()) << d->output();
  EXPECT_EQ(names(maildrop, "m."), std::vector<std::string>{"m.unfinished"});
  EXPECT_EQ(names(maildrop + "/corrupt", "m.").size(), 7u);
  EXPECT_EQ(queue({"list"}).out, "Mail queue is empty\n");
  EXPECT_EQ(slurp(dir.file("victim")), "root only\n");
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("victim").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

TEST_F(maildrop_Security, AMaildropOwnedByAnotherAccountIsNotRead) {
  // Its owner could swap files in and out under the daemon: it is left alone, and the log says so.
  ASSERT_EQ(::chown(maildrop.c_str(), kNobody, gid), 0);
  ASSERT_EQ(::chmod(maildrop.c_str(), 01730), 0);
  plant("m.one", "ferry-maildrop 1\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n");
  auto d = start("serve.log");
  EXPECT_TRUE(d->wait_for_output("maildrop " + maildrop + " cannot be used (owned by uid 65534"))
      << d->output();
  EXPECT_EQ(names(maildrop, "m."), std::vector<std::string>{"m.one"});
  EXPECT_EQ(queue({"list"}).out, "Mail queue is empty\n");
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

TEST_F(maildrop_Security, PostdropReadsTheConfigurationWithTheCallersOwnGroup) {
  // A file only the ferry-drop group may read: the setgid helper must not read it for the caller.
  dir.write("group-secret.toml", "secret_token_xyz = 1\n");
  ASSERT_EQ(::chown(dir.file("group-secret.toml").c_str(), 0, gid), 0);
  ASSERT_EQ(::chmod(dir.file("group-secret.toml").c_str(), 0640), 0);
  auto r = as_nobody({bin + "/ferry-postdrop", "-C", dir.file("group-secret.toml")},
                     "ferry-maildrop 1\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n");
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("secret_token_xyz"), std::string::npos) << r.err;
  EXPECT_TRUE(names(maildrop, "m.").empty());
}

TEST_F(maildrop_Security, PostdropRefusesMalformedInputAndNeedsItsGroup) {
  auto bad = as_nobody({bin + "/ferry-postdrop", "-C", config}, "MAIL FROM:<x>\r\n");
  EXPECT_EQ(bad.exit_code, 65) << bad.err;
  EXPECT_TRUE(names(maildrop, "m.").empty());
  // Without setgid (a development build): the user cannot write the maildrop, and is told why.
  auto plain = as_nobody({fs::path(FERRY_BINARY).parent_path().string() + "/ferry-postdrop", "-C", config},
                         "ferry-maildrop 1\nrcpt x@example.org\n\nSubject: s\r\n\r\nb\r\n");
  EXPECT_EQ(plain.exit_code, 75) << plain.err;
  EXPECT_NE(plain.err.find("not installed setgid ferry-drop"), std::string::npos) << plain.err;
}

}  // namespace
}  // namespace ferry
