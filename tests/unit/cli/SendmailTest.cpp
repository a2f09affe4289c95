// sendmail(8) compatibility, the pure parts: flag parsing (SendmailOptions) and the header
// work on a locally submitted message (LocalMessage: -t, Bcc removal, added Date/Message-ID/From).
#include <gtest/gtest.h>

#include "mta/cli/LocalMessage.hpp"
#include "mta/cli/SendmailOptions.hpp"

using namespace ferry;
using namespace ferry::cli;

namespace {

SendmailOptions parse_ok(std::vector<std::string> args, bool mailq = false) {
  auto r = parse_sendmail_args(args, mailq);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : SendmailOptions{};
}

std::string parse_error(std::vector<std::string> args) {
  auto r = parse_sendmail_args(args);
  return r.ok() ? std::string() : r.error();
}

TEST(sendmail_Options, CronStyleCommandLine) {
  auto o = parse_ok({"-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"});
  EXPECT_EQ(o.full_name, "CronDaemon");
  EXPECT_FALSE(o.dot_ends_message);
  EXPECT_EQ(o.recipients, std::vector<std::string>{"root"});
  EXPECT_EQ(o.mode, SendmailMode::Deliver);
}

TEST(sendmail_Options, SenderAttachedOrSeparateAndNullSender) {
  EXPECT_EQ(*parse_ok({"-fme@example.org", "x@y"}).sender, "me@example.org");
  EXPECT_EQ(*parse_ok({"-r", "<me@example.org>", "x@y"}).sender, "me@example.org");
  EXPECT_EQ(*parse_ok({"-f", "<>", "x@y"}).sender, "");
  EXPECT_FALSE(parse_ok({"x@y"}).sender.has_value());
}

TEST(sendmail_Options, DsnFlags) {
  auto o = parse_ok({"-N", "success,delay", "-R", "hdrs", "-V", "env-1", "a@b"});
  EXPECT_EQ(o.notify, kNotifySuccess | kNotifyDelay);
  EXPECT_EQ(o.ret, DsnRet::Hdrs);
  EXPECT_EQ(o.envid, "env-1");
  EXPECT_EQ(parse_ok({"-Nnever", "a@b"}).notify, kNotifyNever);
  EXPECT_NE(parse_error({"-N", "never,success"}), "");
  EXPECT_NE(parse_error({"-N", "sometimes"}), "");
  EXPECT_NE(parse_error({"-R", "all"}), "");
}

TEST(sendmail_Options, ModesAndConfig) {
  EXPECT_EQ(parse_ok({"-bs"}).mode, SendmailMode::Smtp);
  EXPECT_EQ(parse_ok({"-bp"}).mode, SendmailMode::List);
  EXPECT_EQ(parse_ok({}, true).mode, SendmailMode::List);
  EXPECT_EQ(parse_ok({"-q"}).mode, SendmailMode::Flush);
  EXPECT_EQ(parse_ok({"-q30m"}).mode, SendmailMode::Flush);
  EXPECT_EQ(parse_ok({"-bi"}).mode, SendmailMode::Aliases);
  EXPECT_EQ(*parse_ok({"-C", "/etc/x.toml", "-bp"}).config_path, "/etc/x.toml");
  EXPECT_NE(parse_error({"-bd"}).find("ferry serve"), std::string::npos);
}

TEST(sendmail_Options, UnknownDashOIgnoredOtherUnknownRefused) {
  auto o = parse_ok({"-oee", "-odb", "-oQ/var/spool", "-t", "-v"});
  EXPECT_TRUE(o.recipients_from_headers);
  EXPECT_TRUE(o.verbose);
  EXPECT_EQ(o.ignored.size(), 3u);
  EXPECT_TRUE(parse_ok({"-oi"}).dot_ends_message == false);
  EXPECT_NE(parse_error({"-Z"}), "");
  EXPECT_NE(parse_error({"-f"}), "");
}

// The exact usage error of each flag, as sendmail users and scripts see it on stderr.
TEST(sendmail_Options, EveryUsageErrorIsWordedAsBefore) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"-f"}, "option -f needs an address"},
      {{"-r"}, "option -r needs an address"},
      {{"-F"}, "option -F needs a name"},
      {{"-C"}, "option -C needs a file name"},
      {{"-N"}, "option -N needs never or success,failure,delay"},
      {{"-N", "sometimes"}, "option -N: 'sometimes' is not never or a list of success, failure, delay"},
      {{"-R"}, "option -R needs full or hdrs"},
      {{"-RALL"}, "option -R: 'ALL' is not full or hdrs"},
      {{"-V"}, "option -V needs an envelope id"},
      {{"-V", ""}, "option -V needs an envelope id"},
      {{"-O"}, "option -O needs a value"},
      {{"-X"}, "option -X needs a value"},
      {{"-tx"}, "unknown option '-tx'"},
      {{"-ix"}, "unknown option '-ix'"},
      {{"-Z"}, "unknown option '-Z'"},
      {{"--x"}, "unknown option '--x'"},
      {{"-bD"}, "option -bD: run `ferry serve` to start the daemon"},
      {{"-bz"}, "unsupported mode '-bz'"},
  };
  for (const auto& [args, message] : cases) EXPECT_EQ(parse_error(args), message) << args[0];
}

// Flags whose value changes nothing for a relay are kept (for -v) as given, the value separate.
TEST(sendmail_Options, IgnoredFlagsKeepTheirValue) {
  auto o = parse_ok({"-OFoo=1", "-L", "tag", "-h", "5", "-o", "x", "-U", "-m", "a@b"});
  EXPECT_EQ(o.ignored, (std::vector<std::string>{"-O Foo=1", "-L tag", "-h 5", "-o x", "-U", "-m"}));
  EXPECT_EQ(o.recipients, std::vector<std::string>{"a@b"});
  EXPECT_EQ(parse_ok({"-RFULL", "a@b"}).ret, DsnRet::Full);
}

TEST(sendmail_Options, DoubleDashEndsOptions) {
  auto o = parse_ok({"-i", "--", "-odd@example.org"});
  EXPECT_EQ(o.recipients, std::vector<std::string>{"-odd@example.org"});
}

TEST(sendmail_AddressList, NamesCommentsGroupsAndRoutes) {
  EXPECT_EQ(parse_address_list("A <a@x.example>, b@y.example (Bee), \"Last, First\" <c@z.example>"),
            (std::vector<std::string>{"a@x.example", "b@y.example", "c@z.example"}));
  EXPECT_EQ(parse_address_list("undisclosed-recipients:;"), std::vector<std::string>{});
  EXPECT_EQ(parse_address_list("team: d@x.example, e@x.example; f@x.example"),
            (std::vector<std::string>{"d@x.example", "e@x.example", "f@x.example"}));
  EXPECT_EQ(parse_address_list("<@relay.example:g@x.example>"), std::vector<std::string>{"g@x.example"});
}

LocalMessageOptions opts(bool t = false, bool dot = true) {
  LocalMessageOptions o;
  o.recipients_from_headers = t;
  o.dot_ends_message = dot;
  o.from = "root@host.example";
  o.date = "Mon, 1 Jan 2024 00:00:00 +0000";
  o.message_id = "<1.abc@host.example>";
  return o;
}

TEST(sendmail_LocalMessage, RecipientsFromHeadersAndBccRemoved) {
  auto m = prepare_local_message(
      "To: A <a@x.example>,\n  b@x.example\nCc: c@x.example\nBcc: Secret <s@x.example>,\n t@x.example\n"
      "Subject: s\n\nbody\n",
      opts(true));
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"a@x.example", "b@x.example", "c@x.example",
                                                    "s@x.example", "t@x.example"}));
  EXPECT_EQ(m.message.find("Bcc"), std::string::npos) << m.message;
  EXPECT_EQ(m.message.find("t@x.example"), std::string::npos) << "folded Bcc line removed too";
  EXPECT_NE(m.message.find("To: A <a@x.example>,\r\n  b@x.example\r\n"), std::string::npos);
  EXPECT_NE(m.message.find("\r\n\r\nbody\r\n"), std::string::npos);
}

TEST(sendmail_LocalMessage, AddsMissingDateMessageIdFrom) {
  auto m = prepare_local_message("Subject: s\n\nbody\n", opts());
  EXPECT_TRUE(m.added_from && m.added_date && m.added_message_id);
  EXPECT_EQ(m.message,
            "Subject: s\r\nFrom: root@host.example\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            "Message-ID: <1.abc@host.example>\r\n\r\nbody\r\n");
  auto kept = prepare_local_message("from: me@x\nDATE: today\nMessage-Id: <m@x>\n\nb\n", opts());
  EXPECT_FALSE(kept.added_from || kept.added_date || kept.added_message_id);
}

TEST(sendmail_LocalMessage, LoneDotEndsInputUnlessDashI) {
  EXPECT_EQ(prepare_local_message("Subject: s\n\nline\n.\nafter\n", opts()).message.find("after"),
            std::string::npos);
  EXPECT_NE(prepare_local_message("Subject: s\n\nline\n.\nafter\n", opts(false, false))
                .message.find(".\r\nafter\r\n"),
            std::string::npos);
}

TEST(sendmail_LocalMessage, NoHeaderAtAllGetsOneAndMboxFromLineDropped) {
  auto m = prepare_local_message("just text\n", opts());
  EXPECT_TRUE(m.message.starts_with("From: root@host.example\r\n"));
  EXPECT_NE(m.message.find("\r\n\r\njust text\r\n"), std::string::npos);
  auto mbox = prepare_local_message("From someone Mon Jan 1 00:00:00 2024\nSubject: x\n\nb\n", opts());
  EXPECT_TRUE(mbox.message.starts_with("Subject: x\r\n"));
}

TEST(sendmail_LocalMessage, FromWithFullName) {
  EXPECT_EQ(format_from("Cron Daemon", "root@h"), "Cron Daemon <root@h>");
  EXPECT_EQ(format_from("Doe, John", "j@h"), "\"Doe, John\" <j@h>");
  EXPECT_EQ(format_from("", "j@h"), "j@h");
}

}  // namespace
