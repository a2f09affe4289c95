// Integration: sendmail(8) compatibility against the real binary. With the daemon running the
// message goes over SMTP; with the daemon down it is written straight into the queue; when that
// is impossible too the exit code is 75. Also -t with Bcc, -bs in both situations, the mailq
// and sendmail links, and refused recipients (exit 67).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

// sendmail finds the daemon on a fixed port: test::free_port() gives one that was free a
// moment ago.
using test::free_port;

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

class sendmail_Integration : public ::testing::Test {
 protected:
  test::TempDir dir;
  int port = free_port();
  std::string config = dir.file("ferry.toml");

  void SetUp() override { write_config(""); }

  void write_config(const std::string& extra) {
    dir.write(
        "ferry.toml",
        "hostname = \"mx.ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
            "\"\nmax_size = \"16MiB\"\n[[listen]]\naddress = \"127.0.0.1\"\nport = " + std::to_string(port) +
            "\nmode = \"relay\"\n[metrics]\nlisten = \"\"\n" + "[aliases]\nroot = \"admin@example.org\"\n" +
            // Deliveries fail temporarily (nothing listens on port 1): mail stays queued.
            "[retry]\nfirst = \"1h\"\n[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:1\"\n" + extra);
  }

  test::RunResult sendmail(std::vector<std::string> args, const std::string& input) {
    std::vector<std::string> argv{FERRY_BINARY, "sendmail", "-C", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, input);
  }
  test::RunResult queue(std::vector<std::string> args) {
    std::vector<std::string> argv{FERRY_BINARY, "queue", "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
  std::unique_ptr<test::Background> start() {
    auto d = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", config}, dir.file("serve.log"));
    EXPECT_TRUE(d->wait_for_output("ready: ")) << d->output();
    return d;
  }
  // The id of the only message in the queue.
  std::string only_id() {
    auto list = queue({"list", "--json"});
    auto at = list.out.find("\"id\": \"");
    if (at == std::string::npos) at = list.out.find("\"id\":\"");
    if (at == std::string::npos) return {};
    at = list.out.find('"', list.out.find(':', at) + 1) + 1;
    return list.out.substr(at, list.out.find('"', at) - at);
  }
};

TEST_F(sendmail_Integration, DashTWithBccThroughTheRunningDaemon) {
  auto daemon = start();
  auto r = sendmail({"-t", "-i", "-F", "Cron Daemon"},
                    "To: A <a@example.org>\nCc: c@example.net\nBcc: Hidden <h@example.com>\nSubject: "
                    "report\n\nall fine\n.\nstill body\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(daemon->wait_for_output("nrcpt=3")) << daemon->output();
  EXPECT_NE(daemon->output().find("proto=ESMTP"), std::string::npos) << "submitted over SMTP";
  const std::string id = only_id();
  ASSERT_FALSE(id.empty());
  auto show = queue({"show", id});
  EXPECT_NE(show.out.find("a@example.org"), std::string::npos) << id << show.err << daemon->output();
  EXPECT_NE(show.out.find("c@example.net"), std::string::npos);
  EXPECT_NE(show.out.find("h@example.com"), std::string::npos)
      << "the Bcc recipient is an envelope recipient";
  EXPECT_EQ(show.out.find("Bcc"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("From: Cron Daemon <root@mx.ferry.test>"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("Message-ID: <"), std::string::npos);
  EXPECT_NE(show.out.find("Date: "), std::string::npos);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(sendmail_Integration, DaemonDownEnqueuesDirectlyAndTheDaemonDeliversLater) {
  auto r = sendmail(
      {"-f", "app@example.org", "-N", "failure,delay", "-R", "hdrs", "-V", "env42", "-v", "x@example.org"},
      "Subject: direct\n\nqueued while ferry is stopped\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("directly"), std::string::npos) << r.err;
  const std::string id = only_id();
  ASSERT_FALSE(id.empty());
  auto show = queue({"show", id, "--json"});
  EXPECT_NE(show.out.find("app@example.org"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("env42"), std::string::npos) << show.out;
  auto text = queue({"show", id});
  EXPECT_NE(text.out.find("Received: by mx.ferry.test (Ferry, from userid " + std::to_string(getuid()) + ")"),
            std::string::npos)
      << text.out;
  // The daemon picks it up at start-up like any queued message.
  auto daemon = start();
  EXPECT_NE(daemon->output().find("1 messages"), std::string::npos) << daemon->output();
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(sendmail_Integration, DaemonDownAndQueueNotWritableExits75) {
  // Create the queue as root, then submit as nobody: neither the daemon nor the queue is usable,
  // and there is no maildrop for ferry postdrop either.
  ASSERT_EQ(queue({"list"}).exit_code, 0);
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(dir.file("q").c_str(), 0755);
  auto r = test::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", FERRY_BINARY,
                      "sendmail", "-C", config, "x@example.org"},
                     "Subject: s\n\nb\n");
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find("cannot write to the maildrop " + dir.file("maildrop")), std::string::npos) << r.err;
  EXPECT_EQ(only_id(), "");
}

TEST_F(sendmail_Integration, DaemonUpButRecipientRefusedExits67) {
  write_config("[relay]\nnetworks = []\n");
  auto daemon = start();
  auto r = sendmail({"someone@example.org"}, "Subject: s\n\nb\n");
  EXPECT_EQ(r.exit_code, 67) << r.err;
  EXPECT_NE(r.err.find("Relay access denied"), std::string::npos) << r.err;
  // Aliases apply: root is an alias in the config, so a local recipient is fine.
  auto ok = sendmail({"root@mx.ferry.test"}, "Subject: s\n\nb\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
  // Directly queued mail obeys the same recipient rules (unknown local user).
  auto direct = sendmail({"nobody-here@localhost"}, "Subject: s\n\nb\n");
  EXPECT_EQ(direct.exit_code, 67) << direct.err;
}

// The dialogue with the daemon is the one SMTP client's: -v shows it line by line, a refused
// recipient stops it before DATA (all recipients or none, nothing queued), and the DSN
// parameters reach the daemon.
TEST_F(sendmail_Integration, VerboseDialogueAllOrNoneAndDsnParameters) {
  write_config("[relay]\nnetworks = []\n");
  auto daemon = start();
  auto refused = sendmail({"-v", "root@mx.ferry.test", "someone@example.org"}, "Subject: s\n\nb\n");
  EXPECT_EQ(refused.exit_code, 67) << refused.err;
  EXPECT_NE(refused.err.find(">>> RCPT TO:<root@mx.ferry.test>"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("<<< 220 "), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("recipient <someone@example.org>: 554 5.7.1"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find(">>> DATA"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(">>> QUIT"), std::string::npos) << refused.err;
  EXPECT_EQ(only_id(), "") << "nothing is queued when one recipient is refused";

  auto ok = sendmail({"-v", "-N", "failure", "-R", "hdrs", "-V", "env7", "root@mx.ferry.test"},
                     "Subject: dots\n\n.leading dot\n..two\nend\n");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find(">>> MAIL FROM:<"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find(" RET=HDRS ENVID=env7"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find(" NOTIFY=FAILURE"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("queued as "), std::string::npos) << ok.err;
  const std::string id = only_id();
  ASSERT_FALSE(id.empty());
  EXPECT_NE(queue({"show", id}).out.find("NOTIFY=FAILURE"), std::string::npos);
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(sendmail_Integration, DirectEnqueueRewritesAliases) {
  auto r = sendmail({"root"}, "Subject: s\n\nb\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto show = queue({"show", only_id()});
  EXPECT_NE(show.out.find("admin@example.org"), std::string::npos) << show.out;
}

TEST_F(sendmail_Integration, BsSessionWithDaemonDownAndUp) {
  const std::string dialogue =
      "EHLO app.example\r\nMAIL FROM:<app@example.org>\r\nRCPT TO:<x@example.org>\r\nDATA\r\nSubject: "
      "bs\r\n\r\nhi\r\n.\r\nQUIT\r\n";
  auto down = sendmail({"-bs"}, dialogue);
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(down.out.starts_with("220 mx.ferry.test")) << down.out;
  EXPECT_NE(down.out.find("250 2.0.0 Ok: queued as"), std::string::npos) << down.out;
  EXPECT_NE(down.out.find("221"), std::string::npos) << down.out;

  auto daemon = start();
  auto up = sendmail({"-bs"}, dialogue);
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("250 2.0.0 Ok: queued as"), std::string::npos) << up.out;
  EXPECT_TRUE(daemon->wait_for_output("proto=ESMTP")) << daemon->output();
  auto list = queue({"list"});
  EXPECT_EQ(count(list.out, "x@example.org"), 2u) << list.out;
  EXPECT_EQ(daemon->stop(SIGTERM), 0);
}

TEST_F(sendmail_Integration, InvokedAsSendmailAndMailq) {
  const std::string link_dir = dir.file("bin");
  ::mkdir(link_dir.c_str(), 0755);
  ASSERT_EQ(::symlink(FERRY_BINARY, (link_dir + "/sendmail").c_str()), 0);
  ASSERT_EQ(::symlink(FERRY_BINARY, (link_dir + "/mailq").c_str()), 0);
  auto sent = test::run(
      {"/usr/bin/env", "FERRY_CONFIG=" + config, link_dir + "/sendmail", "-oi", "-oem", "y@example.org"},
      "Subject: link\n\nb\n");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto mailq = test::run({"/usr/bin/env", "FERRY_CONFIG=" + config, link_dir + "/mailq"});
  EXPECT_EQ(mailq.exit_code, 0) << mailq.err;
  EXPECT_NE(mailq.out.find("y@example.org"), std::string::npos) << mailq.out;
  auto bp = sendmail({"-bp"}, "");
  EXPECT_EQ(bp.out, mailq.out);
  EXPECT_EQ(sendmail({"-q"}, "").exit_code, 0);
}

TEST_F(sendmail_Integration, UsageErrors) {
  EXPECT_EQ(sendmail({"-Z"}, "").exit_code, 64);
  EXPECT_EQ(sendmail({}, "Subject: s\n\nb\n").exit_code, 64) << "no recipients";
  EXPECT_EQ(sendmail({"-t"}, "Subject: s\n\nb\n").exit_code, 64) << "-t without To/Cc/Bcc";
  EXPECT_EQ(
      test::run({FERRY_BINARY, "sendmail", "-C", dir.file("missing.toml"), "a@b.example"}, "x\n").exit_code,
      78);
}

}  // namespace
}  // namespace ferry
