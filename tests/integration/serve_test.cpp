// Integration: `ferry serve` starts on a configuration, recovers the queue, stops cleanly on
// SIGTERM, and refuses a bad configuration exactly as check-config does (exit 78).
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/support/Subprocess.hpp"

namespace ferry {
namespace {

TEST(Serve, RefusesBadConfigLikeCheckConfig) {
  test::TempDir dir;
  dir.write("bad.toml", "[queue]\nmax_size = \"lots\"\n");
  auto serve = test::run({FERRY_BINARY, "serve", "--config", dir.file("bad.toml")});
  auto check = test::run({FERRY_BINARY, "check-config", dir.file("bad.toml")});
  EXPECT_EQ(serve.exit_code, 78);
  EXPECT_EQ(check.exit_code, 78);
  EXPECT_EQ(serve.err, check.err);
  EXPECT_NE(serve.err.find("bad.toml:2:12: queue.max_size"), std::string::npos) << serve.err;
}

TEST(Serve, StartsAndStopsOnSigterm) {
  test::TempDir dir;
  dir.write("ferry.toml", "user = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\nmax_size = \"16MiB\"\n"
                              "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  ASSERT_TRUE(serve.wait_for_output("ready: ")) << serve.output();
  EXPECT_NE(serve.output().find("0 messages"), std::string::npos) << serve.output();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("stopped"), std::string::npos);
}

// systemd may reload or stop a daemon that is still starting: the signals wait for their
// handlers instead of killing it with their default action (SIGHUP, SIGTERM: terminate).
TEST(Serve, SignalsDuringStartUpWaitForTheirHandlers) {
  test::TempDir dir;
  dir.write("ferry.toml", "user = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\nmax_size = \"16MiB\"\n"
                              "[metrics]\nlisten = \"\"\n"
                              "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  // The queue is open, the listeners and handlers are not there yet.
  ASSERT_TRUE(serve.wait_for_output("pending recipients")) << serve.output();
  ::kill(serve.pid(), SIGHUP);
  ASSERT_TRUE(serve.wait_for_output("reloaded configuration")) << serve.output();
  EXPECT_TRUE(serve.running());
  EXPECT_NE(serve.output().find("ready: "), std::string::npos) << serve.output();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("stopped"), std::string::npos) << serve.output();
}

TEST(Serve, RejectsStrayArguments) { EXPECT_EQ(test::run({FERRY_BINARY, "serve", "extra"}).exit_code, 64); }

}  // namespace
}  // namespace ferry
