// Bounded memory for messages before their commit ([smtp] max_pending_bytes, default 256 MiB):
// 40 clients send a 25 MiB message each at once (1 GiB in flight). The server stops reading
// from them while the budget is full (TCP backpressure), so its resident memory stays under the
// budget + 64 MiB; as the first messages commit the others proceed, and each ends with 250
// (stored) or 451 4.3.1 (it waited longer than data_timeout).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "SecurityDaemon.hpp"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kClients = 40;
constexpr std::uint64_t kBudget = 256ull << 20;  // the default max_pending_bytes
constexpr std::uint64_t kMiB = 1ull << 20;

// "VmRSS:" or "RssAnon:" of /proc/<pid>/status, in bytes (0 when unreadable).
std::uint64_t status_bytes(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field)) return std::stoull(line.substr(field.size())) * 1024;  // "kB"
  return 0;
}

// A listening socket that never accepts: the kernel completes the handshake and the delivery
// agent's one connection waits for a greeting that never comes. It then reads no other message,
// so the daemon's memory is what the SMTP server holds.
struct BlackHole {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  BlackHole() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~BlackHole() { ::close(fd); }
  bool wait_for_connection(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
  }
};

// One client: a 25 MiB message (just under max_message_size with the Received header added),
// with DATA or as one BDAT chunk (whose announced size must not be reserved up front).
std::string send_big(int port, const std::string& body, bool bdat) {
  test::RawSmtp c(port);
  if (!c.connected() || !c.reply(30000).starts_with("220")) return "no greeting";
  timeval tv{90, 0};  // a stalled send is backpressure: allow for it, but bound it
  ::setsockopt(c.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!c.cmd("EHLO big.test", 30000).starts_with("250")) return "EHLO refused";
  c.send("MAIL FROM:<big@client.test>\r\nRCPT TO:<rcpt@example.com>\r\n");
  const std::string mail = c.reply(30000), rcpt = c.reply(30000);
  if (!rcpt.starts_with("250")) return "refused: " + mail + " | " + rcpt;
  if (bdat) {
    if (!c.send("BDAT " + std::to_string(body.size()) + " LAST\r\n") || !c.send(body)) return "send failed";
    return c.reply(90000);
  }
  const std::string data = c.cmd("DATA", 30000);
  if (!data.starts_with("354")) return "DATA refused: " + data;
  if (!c.send(body) || !c.send(".\r\n")) return "send failed";
  return c.reply(90000);
}

void forty_clients_stay_within_the_budget(bool bdat) {
  BlackHole hole;
  test::SecurityDaemon ferry(
      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
      "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
          std::to_string(hole.port) +
          "\"\n"
          "[delivery]\nmax_connections = 1\nmax_per_destination = 1\n"
          "[smtp]\nmax_connections_per_ip = 100\ndata_timeout = \"20s\"\n",
      "3GiB");
  ASSERT_TRUE(ferry.ready) << ferry.log();
  {
    // Park the delivery agent's only connection on the black hole with a small message.
    test::RawSmtp c(ferry.port());
    ASSERT_TRUE(c.reply().starts_with("220"));
    ASSERT_TRUE(c.cmd("EHLO small.test").starts_with("250"));
    c.send("MAIL FROM:<s@client.test>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n");
    c.reply(), c.reply();
    ASSERT_TRUE(c.reply().starts_with("354"));
    ASSERT_TRUE(c.cmd("Subject: first\r\n\r\nsmall\r\n.").starts_with("250"));
    ASSERT_TRUE(hole.wait_for_connection(20000)) << ferry.log();
  }
  const int pid = ferry.proc->pid();
  const std::uint64_t baseline = status_bytes(pid, "VmRSS:");

  std::string body = "Subject: big\r\n\r\n";
  const std::string line = std::string(76, 'x') + "\r\n";
  while (body.size() + line.size() < 25 * kMiB - 4096) body += line;

  std::atomic<bool> done{false};
  std::uint64_t max_rss = 0, max_anon = 0;
  std::thread sampler([&] {
    while (!done) {
      max_rss = std::max(max_rss, status_bytes(pid, "VmRSS:"));
      max_anon = std::max(max_anon, status_bytes(pid, "RssAnon:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // sampling, not synchronisation
    }
  });
  const auto started = Clock::now();
  std::vector<std::string> replies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] { replies[i] = send_big(ferry.port(), body, bdat); });
  for (auto& t : clients) t.join();
  done = true;
  sampler.join();
  const auto took = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count();

  std::cout << "[ memory   ] " << (bdat ? "BDAT" : "DATA") << ": baseline VmRSS " << baseline / kMiB
            << " MiB; peak VmRSS " << max_rss / kMiB << " MiB, peak RssAnon " << max_anon / kMiB
            << " MiB; budget " << kBudget / kMiB << " MiB; " << took << " s\n";
  ::testing::Test::RecordProperty("peak_vmrss_mib", std::to_string(max_rss / kMiB));
  ::testing::Test::RecordProperty("peak_rssanon_mib", std::to_string(max_anon / kMiB));
  EXPECT_LT(max_rss, kBudget + 64 * kMiB);
  EXPECT_LT(max_anon, kBudget + 64 * kMiB);
  // The budget was full: connections waited, not read, while others went on.
  EXPECT_GT(ferry.count_in_log("waiting for memory"), 0u) << ferry.log();

  std::vector<std::string> ids;
  for (const auto& r : replies) {
    EXPECT_TRUE(r.starts_with("250 2.0.0") || r.starts_with("451 4.3.1")) << r;
    if (r.starts_with("250")) ids.push_back(test::queued_id_of(r));
  }
  EXPECT_GE(ids.size(), 10u) << "most messages get through in the time";
  auto store = ferry.store(4ull << 30);
  ASSERT_TRUE(store);
  for (const auto& id : ids) {
    auto q = QueueId::parse(id);
    ASSERT_TRUE(q) << id;
    auto m = store->load(*q);
    ASSERT_TRUE(m) << "250 for " << id << " but not in the queue";
    EXPECT_GT(m->envelope.size, body.size()) << id;  // the body and its Received header
  }
}

TEST(memoryBudget, FortyClientsSendingTwentyFiveMiBStayWithinTheBudget) {
  forty_clients_stay_within_the_budget(false);
}

TEST(memoryBudget, FortyBdatClientsSendingTwentyFiveMiBStayWithinTheBudget) {
  forty_clients_stay_within_the_budget(true);
}

// A budget that one message fills: of two clients sending 300 KiB at once, one is not read
// while the other holds the budget, and after data_timeout its data is read to the end without
// being stored and answered 451 4.3.1; the other's message is stored.
TEST(memoryBudget, AClientWaitingPastDataTimeoutGets451AtTheEndOfItsData) {
  test::SecurityDaemon ferry(
      "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
      "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:9\"\n"
      "[smtp]\nmax_pending_bytes = \"1MiB\"\ndata_timeout = \"2s\"\n");
  ASSERT_TRUE(ferry.ready) << ferry.log();
  const std::string line = std::string(98, 'a') + "\r\n";
  std::string part = "Subject: part\r\n\r\n";
  while (part.size() < 300 * 1024) part += line;
  const std::string gave_up = "no memory for the message within data_timeout";
  std::atomic<bool> finish{false};
  std::string replies[2];
  auto client = [&](int i) {
    test::RawSmtp c(ferry.port());
    if (!c.reply().starts_with("220") || !c.cmd("EHLO c.test").starts_with("250")) return;
    c.send("MAIL FROM:<a@client.test>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    c.reply(), c.reply();
    if (!c.reply().starts_with("354")) return;
    c.send(part);  // may block while this client is the one not read
    // Keep the connection within its data_timeout until one of the two has given up.
    for (int n = 0; n < 80 && !finish; ++n) {
      c.send(line);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a client's pace, not a wait
    }
    c.send(".\r\n");
    replies[i] = c.reply(15000);
  };
  std::thread a(client, 0), b(client, 1);
  const bool one_gave_up = ferry.wait_for_log(gave_up, 15000);
  finish = true;
  a.join();
  b.join();
  ASSERT_TRUE(one_gave_up) << ferry.log();
  EXPECT_EQ(ferry.count_in_log(gave_up), 1u) << ferry.log();
  std::vector<std::string> codes{replies[0].substr(0, 9), replies[1].substr(0, 9)};
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<std::string>{"250 2.0.0", "451 4.3.1"})) << replies[0] << "\n" << replies[1];
  auto store = ferry.store();
  ASSERT_TRUE(store);
  std::size_t stored = 0;
  ASSERT_TRUE(store->for_each([&](const queue::MessageRecord&) { return ++stored, true; }));
  EXPECT_EQ(stored, 1u);
}

}  // namespace
}  // namespace ferry
