// queue_bench: durable enqueues per second through CommitBatcher, against the disk's raw fsync
// rate. Each producer submits and waits for its completion before the next, like SMTP sessions.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mta/ops/SystemClock.hpp"
#include "queue/QueueStore.hpp"
#include "tests/bench/EnqueueLoad.hpp"

using namespace ferry;
using namespace ferry::queue;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Small write + fdatasync in a loop on the queue's filesystem: what one commit per message costs.
double raw_fsync_rate(const std::string& dir, double seconds) {
  std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror("open probe");
    std::exit(1);
  }
  char buf[512];
  std::memset(buf, 'x', sizeof buf);
  long n = 0;
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::pwrite(fd, buf, sizeof buf, (n % 64) * sizeof buf) != sizeof buf || ::fdatasync(fd) != 0) {
      std::perror("probe");
      std::exit(1);
    }
    ++n;
  }
  double rate = n / seconds_since(start);
  ::close(fd);
  ::unlink(path.c_str());
  return rate;
}

struct CaseResult {
  double rate = 0;
  double avg_batch = 0;
  std::uint64_t failures = 0;
};

CaseResult run_case(const std::string& dir, std::size_t body_size, int producers, double seconds) {
  std::filesystem::remove_all(dir);
  QueueOptions o;
  o.path = dir;
  o.map_size = 32ull << 30;  // sparse: only what is written takes disk space
  auto store = QueueStore::open(o);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    std::exit(1);
  }
  const std::string body = bench::crlf_body(body_size);
  CaseResult result;
  const bench::EnqueueLoad load =
      bench::run_enqueue_load(**store, body, "rcpt@example.net", producers, seconds);
  result.rate = load.rate();
  result.avg_batch = load.stats.commits ? static_cast<double>(load.stats.requests) / load.stats.commits : 0;
  result.failures = load.failed;
  store->reset();
  std::filesystem::remove_all(dir);
  return result;
}

// The delivery agent re-reads the due index to stay in line with `ferry queue` changes: what one
// full scan costs for a queue of `recipients` pending recipients (5 per message, 1 KiB bodies).
double due_scan_ms(const std::string& dir, std::size_t recipients) {
  std::filesystem::remove_all(dir);
  QueueOptions o;
  o.path = dir;
  o.map_size = 32ull << 30;
  auto store = QueueStore::open(o);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    std::exit(1);
  }
  const std::string body(1024, 'b');
  for (std::size_t done = 0; done < recipients;) {
    auto w = (*store)->write([&](WriteTxn& t) -> Result<void> {
      for (int m = 0; m < 500 && done < recipients; ++m) {
        NewMessage msg;
        msg.id = (*store)->allocate_id();
        msg.envelope.reverse_path = "sender@example.org";
        for (int r = 0; r < 5 && done < recipients; ++r, ++done)
          msg.envelope.recipients.push_back({"rcpt" + std::to_string(r) + "@example.net", "", 0});
        msg.envelope.size = body.size();
        msg.body = body;
        msg.first_due_ms = now_ms() + 3600 * 1000;
        if (auto e = t.enqueue(msg); !e) return e;
      }
      return {};
    });
    if (!w) {
      std::fprintf(stderr, "enqueue: %s\n", w.error().message.c_str());
      std::exit(1);
    }
  }
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    auto due = (*store)->due_index();
    const double ms = seconds_since(start) * 1000;
    if (!due || due->size() != recipients) {
      std::fprintf(stderr, "due index: wrong size\n");
      std::exit(1);
    }
    best = std::min(best, ms);
  }
  store->reset();
  std::filesystem::remove_all(dir);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 2;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (a == "--quick")
      quick = true;
    else {
      std::fprintf(stderr, "usage: bench_queue_bench [--dir DIR] [--seconds S] [--quick]\n");
      return 2;
    }
  }
  if (quick) seconds = 0.5;
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ferry-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  std::filesystem::create_directories(dir);

  double fsync_rate = raw_fsync_rate(dir, seconds);
  std::printf("queue dir: %s\n", dir.c_str());
  std::printf("raw fsync rate (512 B pwrite + fdatasync): %.0f/s\n\n", fsync_rate);
  std::printf("%-8s %10s %14s %12s %10s %9s\n", "body", "producers", "enqueues/s", "x fsync", "avg batch",
              "failures");
  const int producer_counts[] = {1, 8, 64, 256};
  for (std::size_t size : {std::size_t{1024}, std::size_t{100 * 1024}}) {
    for (int producers : producer_counts) {
      auto r = run_case(dir + "/queue", size, producers, seconds);
      std::printf("%-8s %10d %14.0f %12.1f %10.1f %9llu\n", size == 1024 ? "1KiB" : "100KiB", producers,
                  r.rate, r.rate / fsync_rate, r.avg_batch, static_cast<unsigned long long>(r.failures));
      std::fflush(stdout);
    }
  }
  std::printf("\n%-12s %14s\n", "pending", "due scan (ms)");
  for (std::size_t n : quick ? std::vector<std::size_t>{10000} : std::vector<std::size_t>{10000, 100000}) {
    std::printf("%-12zu %14.1f\n", n, due_scan_ms(dir + "/due", n));
    std::fflush(stdout);
  }
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
