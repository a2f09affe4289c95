// Integration: a small host's first hour with real local clients. Ferry is installed with
// `cmake --install` into a scratch root (its sendmail link and setgid ferry-postdrop as a package
// lays them out); Debian's bsd-mailx (`mail -s subject root`, which runs `sendmail -i -t`) and a
// cron-style `sendmail -t -oi` with "To: root" send, as root and as an unprivileged user, with the
// daemon up and down. The admin's mailbox is a FakeMx behind the smarthost route: every message
// must arrive there for [local] admin, with X-Original-To: root@<host> and a masqueraded sender.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kMailx = "/usr/bin/bsd-mailx";
constexpr const char* kHost = "vm.ferry.test";

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The build directory: FERRY_BINARY is <build>/mta/cli/ferry.
std::string build_dir() {
  const std::string b = FERRY_BINARY;
  return b.substr(0, b.rfind("/mta/cli/ferry"));
}

class local_Mail : public ::testing::Test {
 protected:
  test::TempDir dir;
  test::FakeMx mailbox{"127.0.0.1"};  // the admin's mailbox, behind the smarthost route
  int port = test::free_port();       // sendmail finds the daemon on a fixed port
  std::string root = dir.file("root");
  std::string sendmail = root + "/usr/sbin/sendmail";
  std::string config = dir.file("ferry.toml");
  gid_t drop_gid = 0;

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (setpriv to nobody, the setgid ferry-postdrop)";
    if (::access(kMailx, X_OK) != 0) GTEST_SKIP() << "bsd-mailx is not installed (.ci/setup installs it)";
    group* g = ::getgrnam("ferry-drop");
    if (g == nullptr)
      GTEST_SKIP() << "the ferry-drop group is missing (.ci/setup makes it from ferry.sysusers)";
    drop_gid = g->gr_gid;
    ::chmod(dir.path().c_str(), 0755);  // nobody passes through to the config and the maildrop
    auto installed = test::run({"/usr/bin/env", "DESTDIR=" + root, "cmake", "--install", build_dir(),
                                "--prefix", "/usr", "--component", "ferry"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
    installed = test::run({"/usr/bin/env", "DESTDIR=" + root, "cmake", "--install", build_dir(), "--prefix",
                           "/usr", "--component", "sendmail"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
    // A staging install (DESTDIR) leaves the helper's group and mode to the package's postinst
    // (dpkg-statoverride): set them as it does.
    const std::string helper = root + "/usr/sbin/ferry-postdrop";
    ASSERT_EQ(::chown(helper.c_str(), 0, drop_gid), 0);
    ASSERT_EQ(::chmod(helper.c_str(), 02755), 0);
    struct stat st {};
    ASSERT_EQ(::stat(helper.c_str(), &st), 0);
    ASSERT_TRUE(st.st_mode & S_ISGID) << "installed setgid ferry-drop";
    write_config("[local]\nadmin = \"ops@example.com\"\nmasquerade = \"example.com\"\n");
    // The maildrop as tmpfiles.d makes it: the run user's (root here), group ferry-drop, 1730.
    const std::string maildrop = dir.file("maildrop");
    ASSERT_EQ(::mkdir(maildrop.c_str(), 0700), 0);
    ASSERT_EQ(::chown(maildrop.c_str(), 0, drop_gid), 0);
    ASSERT_EQ(::chmod(maildrop.c_str(), 01730), 0);
    dir.write("mailrc", "set sendmail=" + sendmail + "\n");
    ::chmod(dir.file("mailrc").c_str(), 0644);
  }

  void write_config(const std::string& local) {
    dir.write("ferry.toml", "hostname = \"" + std::string(kHost) + "\"\nuser = \"root\"\n" + local +
                                "[queue]\npath = \"" + dir.file("q") +
                                "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = " +
                                std::to_string(port) +
                                "\nmode = \"relay\"\n[metrics]\nlisten = \"\"\n"
                                "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
                                std::to_string(mailbox.port()) + "\"\n");
    ::chmod(config.c_str(), 0644);
  }

  // argv as `who` ("root" or "nobody"), with the environment a login shell or cron would give.
  test::RunResult as(const std::string& who, std::vector<std::string> argv, const std::string& input) {
    std::vector<std::string> full;
    if (who == "nobody") full = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    full.insert(full.end(), {"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=" + dir.path(),
                             "MAILRC=" + dir.file("mailrc"), "FERRY_CONFIG=" + config});
    full.insert(full.end(), argv.begin(), argv.end());
    return test::run(full, input);
  }
  test::RunResult mailx(const std::string& who, const std::string& subject, const std::string& body) {
    return as(who, {kMailx, "-s", subject, "root"}, body);
  }
  test::RunResult cron_sendmail(const std::string& who, const std::string& subject) {
    return as(who, {sendmail, "-t", "-oi"},
              "To: root\nSubject: " + subject + "\n\n/etc/cron.daily/logrotate:\nerror: disk full\n");
  }
  std::unique_ptr<test::Background> start() {
    auto d = std::make_unique<test::Background>(
        std::vector<std::string>{root + "/usr/sbin/ferry", "serve", "--config", config},
        dir.file("serve.log"));
    EXPECT_TRUE(d->wait_for_output("ready: ", 20000)) << d->output();
    return d;
  }
  // The one message that reached the admin's mailbox with `subject`.
  test::ReceivedMessage arrived(const std::string& subject, std::size_t total) {
    EXPECT_TRUE(mailbox.wait_messages(total, 30s)) << "nothing reached the admin's mailbox";
    for (const auto& m : mailbox.messages())
      if (has(m.data, "Subject: " + subject + "\r\n")) return m;
    ADD_FAILURE() << "no message with Subject: " << subject;
    return {};
  }
  // It was for root, reached the admin, and says who sent it, under the masquerade domain.
  void expect_for_root(const test::ReceivedMessage& m, const std::string& sender) {
    EXPECT_EQ(m.rcpt_to, std::vector<std::string>{"ops@example.com"});
    EXPECT_TRUE(has(m.data, std::string("X-Original-To: root@") + kHost + "\r\n")) << m.data;
    EXPECT_EQ(m.mail_from, sender + "@example.com") << "masqueraded envelope sender";
    const auto from = m.data.find("\r\nFrom: ");
    ASSERT_NE(from, std::string::npos) << m.data;
    const std::string field = m.data.substr(from + 2, m.data.find("\r\n", from + 2) - from - 2);
    EXPECT_TRUE(has(field, sender + "@example.com")) << "masqueraded From: " << field;
  }
  // Waits (bounded) until the maildrop holds a finished file.
  bool maildrop_has_file() {
    for (int i = 0; i < 200; ++i) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir.file("maildrop"), ec))
        if (e.path().filename().string().starts_with("m.") &&
            (e.status().permissions() & fs::perms::owner_read) != fs::perms::none)
          return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

TEST_F(local_Mail, MailxAndCronAsRootWithTheDaemonUp) {
  auto d = start();
  auto sent = mailx("root", "disk report", "/ is 91% full\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  expect_for_root(arrived("disk report", 1), "root");
  ASSERT_EQ(cron_sendmail("root", "Cron <root@vm> run-parts /etc/cron.daily").exit_code, 0);
  const auto cron = arrived("Cron <root@vm> run-parts /etc/cron.daily", 2);
  expect_for_root(cron, "root");
  EXPECT_TRUE(has(cron.data, "error: disk full\r\n")) << cron.data;
  EXPECT_TRUE(has(d->output(), "proto=ESMTP")) << "submitted to the running daemon over SMTP";
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

TEST_F(local_Mail, MailxAndCronAsRootWithTheDaemonDown) {
  auto sent = mailx("root", "disk report", "/ is 91% full\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto cron = cron_sendmail("root", "cron job");
  ASSERT_EQ(cron.exit_code, 0) << cron.err;
  auto d = start();  // the daemon finds both in its queue (sendmail wrote them there directly)
  expect_for_root(arrived("disk report", 2), "root");
  expect_for_root(arrived("cron job", 2), "root");
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

TEST_F(local_Mail, UnprivilegedUserWithTheDaemonUpAndDown) {
  auto d = start();
  ASSERT_EQ(mailx("nobody", "from an app", "hello\n").exit_code, 0);
  expect_for_root(arrived("from an app", 1), "nobody");
  ASSERT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
  // Daemon down: nobody cannot write the queue; sendmail hands the message to ferry-postdrop.
  auto cron = cron_sendmail("nobody", "nobody's cron job");
  ASSERT_EQ(cron.exit_code, 0) << cron.err;
  ASSERT_TRUE(maildrop_has_file());
  ASSERT_EQ(mailx("nobody", "while stopped", "queued in the maildrop\n").exit_code, 0);
  d = start();
  EXPECT_TRUE(d->wait_for_output("queued from maildrop", 20000)) << d->output();
  expect_for_root(arrived("nobody's cron job", 3), "nobody");
  expect_for_root(arrived("while stopped", 3), "nobody");
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
}

// Without an admin, mail to root is refused with the fix in the reply, whichever way sendmail
// takes, and serve says so once at start.
TEST_F(local_Mail, WithoutAnAdminTheRefusalNamesTheFix) {
  write_config("");
  const std::string fix = std::string("<root@") + kHost + ">: no alias; set [local] admin or [aliases] root";
  auto down = cron_sendmail("root", "cron job");
  EXPECT_EQ(down.exit_code, 67) << down.err;
  EXPECT_TRUE(has(down.err, fix)) << down.err;
  auto d = start();
  EXPECT_EQ(count(d->output(), "warning: [local] admin is not set"), 1u) << d->output();
  auto up = cron_sendmail("root", "cron job");
  EXPECT_EQ(up.exit_code, 67) << up.err;
  EXPECT_TRUE(has(up.err, "550 5.1.1 " + fix)) << up.err;
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
  EXPECT_EQ(count(d->output(), "warning: [local] admin is not set"), 1u) << d->output();
  EXPECT_TRUE(mailbox.messages().empty());
}

}  // namespace
}  // namespace ferry
