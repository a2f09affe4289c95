// `ferry check-config`: the real binary validates a file and prints the effective configuration;
// configuration errors go to stderr as "ferry: configuration error: FILE:LINE:COL: KEY: MESSAGE", exit 78.
#include <gtest/gtest.h>

#include <string>

#include "integration/support/Subprocess.hpp"

namespace {

using ferry::test::run;
using ferry::test::TempDir;

constexpr int kExitConfig = 78;

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(configCli, DefaultPrintsEffectiveConfiguration) {
  auto r = run({FERRY_BINARY, "check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The default relays only and has no admin: it says what a small host must still set.
  EXPECT_EQ(
      r.err,
      "ferry check-config: warning: [local] admin is not set: mail to root and other local users "
      "without an alias is refused (550 5.1.1); set [local] admin = \"you@example.com\" or an [aliases] "
      "entry\n"
      "ferry check-config: warning: no [[route]] and [delivery] port = 25: outbound port 25 is often "
      "blocked; see README Smarthost\n");
  EXPECT_TRUE(has(r.out, "[[listen]]\naddress = \"127.0.0.1\"\nport = 2525\nmode = \"relay\"\n")) << r.out;
  EXPECT_TRUE(has(r.out, "[queue]\npath = \"./var/queue\"\nmax_size = \"1GiB\"\nsync = true\n")) << r.out;
  EXPECT_TRUE(has(r.out, "max_message_size = \"25MiB\"\n")) << r.out;
  EXPECT_TRUE(has(r.out, "[metrics]\nlisten = \"127.0.0.1:9925\"\n")) << r.out;
}

TEST(configCli, AdminAndASmarthostSilenceTheWarnings) {
  TempDir dir;
  dir.write("ferry.toml",
            "[local]\nadmin = \"ops@example.com\"\nmasquerade = \"example.com\"\n"
            "[[route]]\ndomain = \"*\"\nhost = \"smtp.example.net:587\"\n");
  auto r = run({FERRY_BINARY, "check-config", dir.file("ferry.toml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(has(r.out, "[local]\nadmin = \"ops@example.com\"\nmasquerade = \"example.com\"\n")) << r.out;
}

TEST(configCli, GoodFileIsOverlaidOnTheDefault) {
  TempDir dir;
  dir.write("ferry.toml",
            "hostname = \"mx.example.com\"\n"
            "[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"relay\"\n"
            "[[listen]]\naddress = \"0.0.0.0\"\nport = 587\nmode = \"submission\"\n"
            "[retry]\nfirst = \"10m\"\n");
  for (const auto& argv :
       {std::vector<std::string>{FERRY_BINARY, "check-config", dir.file("ferry.toml")},
        std::vector<std::string>{FERRY_BINARY, "check-config", "--config", dir.file("ferry.toml")}}) {
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "hostname = \"mx.example.com\"\n")) << r.out;
    EXPECT_TRUE(has(r.out, "port = 587\nmode = \"submission\"\n")) << r.out;
    EXPECT_FALSE(has(r.out, "port = 2525\n")) << "[[listen]] replaces the default list\n" << r.out;
    EXPECT_TRUE(has(r.out, "first = \"10m\"\nmax_interval = \"1h\"\n")) << r.out;
  }
}

TEST(configCli, RenderedOutputIsAValidConfiguration) {
  auto first = run({FERRY_BINARY, "check-config"});
  ASSERT_EQ(first.exit_code, 0);
  TempDir dir;
  dir.write("effective.toml", first.out);
  auto second = run({FERRY_BINARY, "check-config", dir.file("effective.toml")});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
}

struct BadCase {
  const char* name;
  const char* content;
  const char* message;  // after "ferry: configuration error: FILE"
};

TEST(configCli, ErrorsExit78WithPosition) {
  const BadCase cases[] = {
      {"unknown key", "[queue]\nmax_sise = \"2GiB\"\n",
       ":2:1: queue.max_sise: unknown key; did you mean \"max_size\"?\n"},
      {"wrong type", "[[listen]]\naddress = \"0.0.0.0\"\nport = \"x\"\nmode = \"relay\"\n",
       ":3:8: listen[0].port: expected integer, got string\n"},
      {"invalid value", "[retry]\njitter = 2.0\n",
       ":2:10: retry.jitter: must be between 0.0 and 1.0, got 2.0\n"},
      {"syntax error", "[queue\n", ":1:7: Error while parsing table header: expected ']', saw '\\n'\n"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    const std::string path = dir.file("bad.toml");
    dir.write("bad.toml", c.content);
    auto r = run({FERRY_BINARY, "check-config", path});
    EXPECT_EQ(r.exit_code, kExitConfig) << c.name;
    EXPECT_EQ(r.err, "ferry: configuration error: " + path + c.message) << c.name;
    EXPECT_EQ(r.out, "") << c.name;
  }
}

TEST(configCli, MissingFileExit78) {
  TempDir dir;
  const std::string path = dir.file("absent.toml");
  auto r = run({FERRY_BINARY, "check-config", path});
  EXPECT_EQ(r.exit_code, kExitConfig);
  EXPECT_EQ(r.err, "ferry: configuration error: " + path + ": cannot open: No such file or directory\n");
}

// A route's password file is read as the daemon reads it: check-config and serve refuse alike.
TEST(configCli, UnreadableRoutePasswordFileExit78LikeServe) {
  TempDir dir;
  dir.write("ferry.toml", "user = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\n[metrics]\nlisten = \"\"\n[[route]]\ndomain = \"*\"\n"
                              "host = \"[127.0.0.1]\"\nauth_user = \"u\"\nauth_password_file = \"" +
                              dir.file("absent") + "\"\n");
  auto check = run({FERRY_BINARY, "check-config", dir.file("ferry.toml")});
  EXPECT_EQ(check.exit_code, kExitConfig);
  const std::string why = "[[route]] *: auth_password_file " + dir.file("absent") + " cannot be read";
  EXPECT_EQ(check.err, "ferry: configuration error: " + why + "\n");
  auto serve = run({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, "", 30);
  EXPECT_EQ(serve.exit_code, kExitConfig);
  EXPECT_NE(serve.err.find(why), std::string::npos) << serve.err;
  dir.write("absent", "secret\n");
  EXPECT_EQ(run({FERRY_BINARY, "check-config", dir.file("ferry.toml")}).exit_code, 0);
}

// [mta_sts] ca_file is loaded at start, as a route's tls_ca_file is: a bad one refuses the
// configuration instead of deferring every enforced domain later.
TEST(configCli, UnloadableMtaStsCaFileExit78LikeServe) {
  TempDir dir;
  dir.write("ferry.toml", "user = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\n[metrics]\nlisten = \"\"\n[mta_sts]\nca_file = \"" + dir.file("ca.pem") +
                              "\"\n");
  dir.write("ca.pem", "not a certificate\n");
  auto check = run({FERRY_BINARY, "check-config", dir.file("ferry.toml")});
  EXPECT_EQ(check.exit_code, kExitConfig);
  EXPECT_NE(check.err.find("[mta_sts] tls_ca_file " + dir.file("ca.pem")), std::string::npos) << check.err;
  auto serve = run({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, "", 30);
  EXPECT_EQ(serve.exit_code, kExitConfig);
  EXPECT_NE(serve.err.find("[mta_sts]"), std::string::npos) << serve.err;
}

TEST(configCli, UsageErrors) {
  EXPECT_EQ(run({FERRY_BINARY, "check-config", "--config"}).exit_code, 64);
  EXPECT_EQ(run({FERRY_BINARY, "check-config", "a.toml", "b.toml"}).exit_code, 64);
  EXPECT_EQ(run({FERRY_BINARY, "check-config", "--bogus"}).exit_code, 64);
}

}  // namespace
