// DKIM signing cost cannot stall other clients: a message with 60,000 To: fields is signed in
// one pass over its header, on a worker thread, with at most 10 instances of a name signed; while
// it is, another client's NOOPs are answered at once. The capped signature verifies with
// python3-dkim.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "SecurityDaemon.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kPython = "/usr/bin/python3";
const std::string kVerifyPy = std::string(FERRY_SOURCE_DIR) + "/tests/integration/dkim/verify.py";

// `ferry dkim keygen` into `dir`; returns "NAME=TEXT" for verify.py's --txt.
std::string keygen(const test::TempDir& dir) {
  auto r = test::run({FERRY_BINARY, "dkim", "keygen", "--domain", "example.test", "--selector", "s1",
                      "--algorithm", "ed25519", "--out", dir.file("s1.key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex line(R"re(^(\S+)\._domainkey\.(\S+)\. IN TXT ((?:"[^"]*" ?)+)\n$)re");
  if (!std::regex_match(r.out, m, line)) return "";
  std::string text;
  const std::string strings = m[3];
  const std::regex quoted(R"re("([^"]*)")re");
  for (auto it = std::sregex_iterator(strings.begin(), strings.end(), quoted); it != std::sregex_iterator();
       ++it)
    text += (*it)[1];
  return std::string(m[1]) + "._domainkey." + std::string(m[2]) + "=" + text;
}

std::string message_with_to_fields(std::size_t n) {
  std::string m = "From: App <app@example.test>\r\nSubject: many recipients\r\n";
  for (std::size_t i = 0; i < n; ++i) m += "To: user" + std::to_string(i) + "@far.test\r\n";
  return m + "\r\nhello\r\n";
}

// One message over a raw session; returns the reply to the final dot.
std::string send_message(int port, const std::string& data) {
  test::RawSmtp c(port);
  if (!c.reply().starts_with("220") || !c.cmd("EHLO app.test").starts_with("250")) return "no session";
  c.send("MAIL FROM:<app@example.test>\r\nRCPT TO:<user@far.test>\r\nDATA\r\n");
  c.reply(), c.reply();
  if (!c.reply().starts_with("354")) return "no 354";
  c.send(data + ".\r\n");
  return c.reply(60000);
}

TEST(dkimCost, SixtyThousandToFieldsDoNotStallOtherClients) {
  test::TempDir keys;
  const std::string published = keygen(keys);
  ASSERT_FALSE(published.empty());
  test::SecurityDaemon ferry(
      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
      "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n[retry]\nfirst = \"1h\"\n"
      // The NOOPs below measure the event loop, as fast as it answers: no junk limit.
      "[smtp]\nmax_message_size = \"25MiB\"\njunk_command_limit = 0\n"
      "[[dkim]]\ndomain = \"example.test\"\nselector = \"s1\"\nkey = \"" +
      keys.file("s1.key") + "\"\n");
  ASSERT_TRUE(ferry.ready) << ferry.log();

  test::RawSmtp other(ferry.port());
  ASSERT_TRUE(other.reply().starts_with("220"));
  ASSERT_TRUE(other.cmd("EHLO other.test").starts_with("250"));

  std::atomic<bool> sent{false};
  std::string big_reply;
  std::thread big([&] {
    big_reply = send_message(ferry.port(), message_with_to_fields(60000));
    sent = true;
  });
  // NOOPs while the big message is received, signed and committed: each is answered promptly.
  Clock::duration slowest{};
  int noops = 0;
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (!sent && Clock::now() < give_up) {
    const auto t = Clock::now();
    const std::string r = other.cmd("NOOP", 30000);
    ASSERT_TRUE(r.starts_with("250")) << r;
    slowest = std::max(slowest, Clock::now() - t);
    ++noops;
  }
  big.join();
  ASSERT_TRUE(big_reply.starts_with("250 2.0.0")) << big_reply << ferry.log();
  EXPECT_TRUE(ferry.wait_for_log("dkim-signed d=example.test")) << ferry.log();
  std::cout << "[ dkim     ] " << noops << " NOOPs, slowest "
            << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms\n";
  EXPECT_LT(slowest, std::chrono::milliseconds(1500)) << "the event loop stalled";

  // The stored message carries a signature with at most 10 To: instances, and it verifies.
  auto store = ferry.store();
  ASSERT_TRUE(store);
  auto id = QueueId::parse(test::queued_id_of(big_reply));
  ASSERT_TRUE(id);
  auto body = store->read_body(*id);
  ASSERT_TRUE(body);
  ASSERT_TRUE(body->starts_with("DKIM-Signature:")) << body->substr(0, 200);
  const std::string sig = body->substr(0, body->find("\r\nReceived:"));
  std::string h = sig.substr(sig.find("h=") + 2);
  h = h.substr(0, h.find(';'));
  std::size_t to = 0;
  for (std::size_t p = 0; (p = h.find("to", p)) != std::string::npos; p += 2) ++to;
  EXPECT_EQ(to, 10u) << h;
  if (access(kPython.c_str(), X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3: signature not verified";
  auto v = test::run({kPython, kVerifyPy, "--txt", published}, *body, 120);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace ferry
