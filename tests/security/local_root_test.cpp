// Security: the local attack surface as root. The service account (here `nobody`) owns the
// queue directory and can plant symbolic links in it; root must never follow them (start-up of
// `ferry serve`, `ferry queue`, sendmail). A stale pid file must not get an unrelated process
// signalled, a second daemon must not run on the same queue, and a missing run user is fatal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uid_t owner_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}

class local_Root : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string config = dir.file("ferry.toml");
  std::string q = dir.file("q");
  std::string victim = dir.file("victim");  // a root-only file the service account must not get

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ::chmod(dir.path().c_str(), 0755);  // the service account reaches its queue below this
    dir.write("victim", "root only\n");
    ::chmod(victim.c_str(), 0600);
  }
  void write_config(const std::string& user) const {
    dir.write("ferry.toml", "hostname = \"mx.ferry.test\"\nuser = \"" + user + "\"\n[queue]\npath = \"" + q +
                                "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = 0\n"
                                "mode = \"relay\"\n[metrics]\nlisten = \"\"\n[retry]\nfirst = \"1h\"\n"
                                "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:1\"\n");
  }
  // The queue directory as systemd-tmpfiles makes it: owned by the service account, mode 0700.
  void make_queue_dir() const {
    ASSERT_EQ(::mkdir(q.c_str(), 0700), 0);
    ASSERT_EQ(::chown(q.c_str(), kNobody, kNogroup), 0);
  }
  // A link owned by the service account, as that account would plant it.
  void plant(const std::string& target, const std::string& link) const {
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    ASSERT_EQ(::lchown(link.c_str(), kNobody, kNogroup), 0);
  }
  test::RunResult serve_until_exit() {
    return test::run({FERRY_BINARY, "serve", "--config", config}, "", 30);
  }
  std::unique_ptr<test::Background> start(const std::string& log) {
    auto d = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", config}, dir.file(log));
    EXPECT_TRUE(d->wait_for_output("ready: ", 20000)) << d->output();
    return d;
  }
  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
};

TEST_F(local_Root, StartAsRootDoesNotChownThroughLinksInTheQueue) {
  write_config("nobody");
  make_queue_dir();
  const std::string tree = dir.file("tree");
  ASSERT_EQ(::mkdir(tree.c_str(), 0700), 0);
  dir.write("tree/inner", "root only too\n");
  plant(victim, q + "/evil");
  plant(tree, q + "/evil-dir");
  auto d = start("serve.log");
  EXPECT_TRUE(d->wait_for_output("dropped privileges to user nobody")) << d->output();
  // The control socket is the run user's alone; root's `ferry queue flush` reaches it as that user.
  struct stat st {};
  ASSERT_EQ(::lstat((q + "/control").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, kNobody);
  auto flushed = queue({"flush"});
  EXPECT_EQ(flushed.exit_code, 0) << flushed.err;
  EXPECT_TRUE(d->wait_for_output("queue changed (control socket)")) << d->output();
  EXPECT_EQ(d->stop(SIGTERM, 20000), 0) << d->output();
  EXPECT_NE(::lstat((q + "/control").c_str(), &st), 0) << "removed at a clean stop";
  EXPECT_EQ(owner_of(victim), 0u) << "a file the service account linked to became its own";
  EXPECT_EQ(owner_of(tree), 0u);
  EXPECT_EQ(owner_of(tree + "/inner"), 0u);
  // The queue files were created by the service account itself, not chowned afterwards.
  EXPECT_EQ(owner_of(q + "/data.mdb"), kNobody);
  EXPECT_EQ(owner_of(q + "/lock.mdb"), kNobody);
}

TEST_F(local_Root, StartRefusesALinkedLockFile) {
  write_config("nobody");
  make_queue_dir();
  plant(victim, q + "/lock.mdb");
  auto r = serve_until_exit();
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find(q + "/lock.mdb is not a regular file (it is a symbolic link)"), std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(victim), "root only\n");
  EXPECT_EQ(owner_of(victim), 0u);
}

TEST_F(local_Root, StartRefusesAQueueDirectoryWithTheWrongOwnerOrMode) {
  write_config("nobody");
  ASSERT_EQ(::mkdir(q.c_str(), 0700), 0);  // root's, as `ferry serve` as root used to leave it
  auto r = serve_until_exit();
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("queue directory " + q + " is owned by root (uid 0), not by nobody"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("fix with chown nobody: " + q), std::string::npos) << r.err;
  EXPECT_EQ(owner_of(q), 0u) << "the check changes nothing";

  ASSERT_EQ(::chown(q.c_str(), kNobody, kNogroup), 0);
  ASSERT_EQ(::chmod(q.c_str(), 0755), 0);
  r = serve_until_exit();
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("has mode 0755, not 0700: fix with chmod 0700 " + q), std::string::npos) << r.err;

  // The queue directory itself replaced by a link to another directory.
  ASSERT_EQ(::rmdir(q.c_str()), 0);
  const std::string elsewhere = dir.file("elsewhere");
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  plant(elsewhere, q);
  r = serve_until_exit();
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("is a symbolic link"), std::string::npos) << r.err;
  EXPECT_EQ(owner_of(elsewhere), 0u);
}

TEST_F(local_Root, QueueCommandAsRootDoesNotFollowTheOwnersLinks) {
  write_config("nobody");
  make_queue_dir();
  plant(victim, q + "/lock.mdb");
  auto r = queue({"list"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(victim), "root only\n") << "LMDB wrote its lock table into the link's target";
  EXPECT_EQ(owner_of(victim), 0u);
}

TEST_F(local_Root, RootCliCreatesQueueFilesOwnedByTheQueueOwner) {
  write_config("nobody");
  make_queue_dir();
  // sendmail as root with the daemon down writes the message straight into the queue.
  auto sent = test::run({FERRY_BINARY, "sendmail", "-C", config, "x@example.org"}, "Subject: s\n\nbody\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(owner_of(q + "/data.mdb"), kNobody);
  EXPECT_EQ(owner_of(q + "/lock.mdb"), kNobody);
  // So the service account can still open its queue.
  auto list = test::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", FERRY_BINARY,
                         "queue", "--config", config, "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("x@example.org"), std::string::npos) << list.out;
}

TEST_F(local_Root, QueueCommandByAnotherUserIsRefused) {
  write_config("root");
  ASSERT_EQ(queue({"list"}).exit_code, 0);  // root's queue
  ::chmod(q.c_str(), 0755);
  auto r = test::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", FERRY_BINARY,
                      "queue", "--config", config, "list"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_NE(r.err.find("belongs to root (uid 0): run this as root"), std::string::npos) << r.err;
}

TEST_F(local_Root, FlushNeverSignalsTheProcessAStalePidFileNames) {
  write_config("root");
  ASSERT_EQ(queue({"list"}).exit_code, 0);
  test::Background bystander({"/bin/sleep", "60"}, dir.file("sleep.log"));
  dir.write("q/ferry.pid", std::to_string(bystander.pid()) + "\n");
  // A stale control socket (left by a crashed daemon) answers nobody.
  ASSERT_EQ(test::run({"/usr/bin/python3", "-c",
                       "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", q + "/control"})
                .exit_code,
            0);
  auto r = queue({"flush"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // SIGUSR1 would have ended `sleep` (its default action): give a wrongly sent one time to land.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(bystander.running()) << "ferry queue flush signalled an unrelated process";
}

TEST_F(local_Root, SecondDaemonOnTheSameQueueRefusesToStart) {
  write_config("root");
  auto first = start("first.log");
  auto second = serve_until_exit();
  EXPECT_EQ(second.exit_code, 75) << second.err;
  EXPECT_NE(second.err.find("another ferry daemon (pid " + std::to_string(first->pid()) +
                            ") is running on the queue " + q),
            std::string::npos)
      << second.err;
  EXPECT_TRUE(first->running());
  // The running daemon is the one a flush wakes.
  EXPECT_EQ(queue({"flush"}).exit_code, 0);
  EXPECT_TRUE(first->wait_for_output("queue changed (control socket)")) << first->output();
  EXPECT_EQ(first->stop(SIGTERM, 20000), 0) << first->output();
  // Its lock is gone with it: the next daemon starts.
  auto third = start("third.log");
  EXPECT_EQ(third->stop(SIGTERM, 20000), 0) << third->output();
}

TEST_F(local_Root, MissingRunUserIsFatal) {
  write_config("nosuchuser-ferry");
  auto r = serve_until_exit();
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("user 'nosuchuser-ferry' does not exist: refusing to run as root"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace ferry
