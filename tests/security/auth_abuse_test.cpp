// AUTH abuse: failures are counted per client address across connections (five in ten minutes
// and AUTH from that address gets 454 4.7.0 for ten minutes, even with the right password), one
// address cannot have more than two password checks on the crypt thread, and AUTH is not offered
// on relay listeners unless [auth] on_relay_listeners = true.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "SecurityDaemon.hpp"
#include "integration/support/Base64.hpp"

namespace ferry {
namespace {

using test::b64;

std::string plain(const std::string& user, const std::string& password) {
  return "AUTH PLAIN " + b64(std::string("\0", 1) + user + std::string("\0", 1) + password);
}

// A sha512-crypt hash with `rounds` rounds (libcrypt through Python), "" where unavailable.
std::string sha512_hash(const std::string& password, int rounds) {
  auto r =
      test::run({"/usr/bin/env", "python3", "-W", "ignore", "-c",
                 "import crypt,sys; print(crypt.crypt(sys.argv[1], '$6$rounds=" + std::to_string(rounds) +
                     "$ferrysalt'))",
                 password});
  std::string h = r.out;
  while (!h.empty() && (h.back() == '\n' || h.back() == '\r')) h.pop_back();
  return h.starts_with("$6$") ? h : "";
}

std::string config(const test::TempDir& dir, const std::string& mode, const std::string& auth_extra = "") {
  return "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"" + mode +
         "\"\nrelay_networks = []\n"
         "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n"
         "[auth]\npassword_file = \"" +
         dir.file("passwd") + "\"\nallow_plaintext_loopback = true\n" + auth_extra;
}

// A fresh session after EHLO; its EHLO reply in `ehlo`.
std::unique_ptr<test::RawSmtp> session(int port, std::string* ehlo = nullptr) {
  auto c = std::make_unique<test::RawSmtp>(port);
  EXPECT_TRUE(c->reply().starts_with("220"));
  const std::string r = c->cmd("EHLO guesser.test");
  EXPECT_TRUE(r.starts_with("250")) << r;
  if (ehlo) *ehlo = r;
  return c;
}

TEST(authAbuse, FiveFailuresFromOneAddressBlockAuthAcrossConnections) {
  test::TempDir dir;
  const std::string hash = sha512_hash("s3cret", 5000);
  ASSERT_FALSE(hash.empty()) << "python3 crypt is needed to make the password file";
  dir.write("passwd", "alice:" + hash + "\n");
  test::SecurityDaemon ferry(config(dir, "submission"));
  ASSERT_TRUE(ferry.ready) << ferry.log();
  // One wrong guess per connection: the per-connection delay never grows, yet the address is
  // blocked after the fifth.
  for (int i = 0; i < 5; ++i) {
    auto c = session(ferry.port());
    const std::string r = c->cmd(plain("alice", "guess" + std::to_string(i)));
    EXPECT_TRUE(r.starts_with("535 5.7.8")) << i << ": " << r;
  }
  auto c = session(ferry.port());
  const std::string r = c->cmd(plain("alice", "s3cret"));
  EXPECT_TRUE(r.starts_with("454 4.7.0")) << "the right password is not even checked now: " << r;
  EXPECT_TRUE(ferry.wait_for_log("refused: too many failed attempts from 127.0.0.1")) << ferry.log();
  EXPECT_TRUE(c->cmd("NOOP").starts_with("250")) << "the session itself goes on";
}

TEST(authAbuse, OneAddressHasAtMostTwoChecksOnTheCryptThread) {
  test::TempDir dir;
  const std::string hash = sha512_hash("s3cret", 1500000);  // most of a second per check
  ASSERT_FALSE(hash.empty()) << "python3 crypt is needed to make the password file";
  dir.write("passwd", "alice:" + hash + "\n");
  test::SecurityDaemon ferry(config(dir, "submission"));
  ASSERT_TRUE(ferry.ready) << ferry.log();
  std::unique_ptr<test::RawSmtp> s[3] = {session(ferry.port()), session(ferry.port()), session(ferry.port())};
  // Three at once: the first is being checked and the next waits for the thread when the last
  // arrives (whichever of the two later ones the server reads last is refused).
  for (auto& c : s) c->send(plain("alice", "s3cret") + "\r\n");
  std::string r[3];
  for (int i = 0; i < 3; ++i) r[i] = s[i]->reply(60000);
  EXPECT_TRUE(r[0].starts_with("235")) << r[0];
  const int refused = r[1].starts_with("454 4.7.0") ? 1 : 2;
  EXPECT_TRUE(r[refused].starts_with("454 4.7.0")) << r[1] << " / " << r[2];
  EXPECT_TRUE(r[3 - refused].starts_with("235")) << r[3 - refused];
  EXPECT_TRUE(ferry.wait_for_log("checks already running for 127.0.0.1")) << ferry.log();
  EXPECT_TRUE(s[refused]->cmd(plain("alice", "s3cret"), 60000).starts_with("235"))
      << "once they are done, it may";
}

TEST(authAbuse, NoAuthOnRelayListenersUnlessAskedFor) {
  test::TempDir dir;
  const std::string hash = sha512_hash("s3cret", 5000);
  ASSERT_FALSE(hash.empty());
  dir.write("passwd", "alice:" + hash + "\n");
  {
    test::SecurityDaemon ferry(config(dir, "relay"));
    ASSERT_TRUE(ferry.ready) << ferry.log();
    std::string ehlo;
    auto c = session(ferry.port(), &ehlo);
    EXPECT_EQ(ehlo.find("AUTH"), std::string::npos) << ehlo;
    EXPECT_TRUE(c->cmd(plain("alice", "s3cret")).starts_with("503 5.5.1")) << "nothing to guess at";
  }
  {
    test::SecurityDaemon ferry(config(dir, "relay", "on_relay_listeners = true\n"));
    ASSERT_TRUE(ferry.ready) << ferry.log();
    std::string ehlo;
    auto c = session(ferry.port(), &ehlo);
    EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN"), std::string::npos) << ehlo;
    EXPECT_TRUE(c->cmd(plain("alice", "s3cret")).starts_with("235"));
  }
  {
    test::SecurityDaemon ferry(config(dir, "submission"));  // submission always offers it
    ASSERT_TRUE(ferry.ready) << ferry.log();
    std::string ehlo;
    session(ferry.port(), &ehlo);
    EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN"), std::string::npos) << ehlo;
  }
}

}  // namespace
}  // namespace ferry
