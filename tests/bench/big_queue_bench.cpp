// big_queue_bench: a queue of a million messages to one dead destination, built directly through
// QueueStore, and what it costs: start-up recovery (time, peak anonymous memory), one full read
// of the due index, and durable enqueues at 50 producers on the big queue against an empty one.
// Prints figures; tests/bench/big_queue_bench.sh adds `ferry serve` and `ferry queue list`.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "big_queue_bench: %s\n", what.c_str());
  std::exit(1);
}

// This process's anonymous resident memory in KiB (/proc/self/status RssAnon).
long rss_anon_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::atol(line.c_str() + 8);
  return -1;
}

// Samples RssAnon every 5 ms while alive; peak() is the highest seen.
class PeakSampler {
 public:
  PeakSampler() : thread_([this] { run(); }) {}
  ~PeakSampler() { stop(); }
  long stop() {
    if (thread_.joinable()) {
      done_ = true;
      thread_.join();
    }
    peak_ = std::max(peak_.load(), rss_anon_kib());
    return peak_;
  }

 private:
  void run() {
    for (int i = 0; i < 1'000'000 && !done_; ++i) {  // bounded: at most ~80 minutes of samples
      peak_ = std::max(peak_.load(), rss_anon_kib());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::atomic<bool> done_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

std::unique_ptr<QueueStore> open_store(const std::string& dir) {
  QueueOptions o;
  o.path = dir;
  o.map_size = 64ull << 30;  // sparse: only what is written takes disk space
  auto store = QueueStore::open(o);
  if (!store) die("open " + dir + ": " + store.error().message);
  return std::move(*store);
}

// `count` messages of ~1 KiB, one recipient each at dead.example, from several senders, due
// spread over the next day (the destination has been down and is retried), 5,000 per commit.
void generate(QueueStore& store, std::size_t count) {
  const std::string body = bench::crlf_body(1024);
  const TimeMs now = now_ms();
  const TimeMs day = 24 * 3600 * 1000;
  auto start = Clock::now();
  for (std::size_t done = 0; done < count;) {
    auto w = store.write([&](WriteTxn& t) -> Result<void> {
      for (int m = 0; m < 5000 && done < count; ++m, ++done) {
        NewMessage msg;
        msg.id = store.allocate_id();
        msg.envelope.reverse_path = "sender" + std::to_string(done % 100) + "@example.org";
        msg.envelope.recipients.push_back({"user" + std::to_string(done) + "@dead.example", "", 0});
        msg.envelope.size = body.size();
        msg.envelope.arrival_ms = now - day + static_cast<TimeMs>(done * day / count);
        msg.body = body;
        msg.first_due_ms = now + static_cast<TimeMs>((done * 7919) % count * day / count);
        if (auto e = t.enqueue(msg); !e) return e;
      }
      return {};
    });
    if (!w) die("enqueue: " + w.error().message);
  }
  std::printf("generated %zu messages in %.1f s\n", count, seconds_since(start));
}

void usage() {
  std::fprintf(stderr,
               "usage: bench_big_queue_bench [--messages N] [--dir DIR] [--reuse] [--generate-only]\n"
               "                             [--accept-seconds S]\n"
               "  --messages N   queue size (default 1000000)\n"
               "  --dir DIR      where the big queue lives (default /tmp/ferry-big-queue/queue)\n"
               "  --reuse        keep an existing queue in DIR instead of building a new one\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 1'000'000;
  std::string dir = "/tmp/ferry-big-queue/queue";
  bool reuse = false, generate_only = false;
  double accept_seconds = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--messages" && i + 1 < argc)
      messages = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--accept-seconds" && i + 1 < argc)
      accept_seconds = std::atof(argv[++i]);
    else if (a == "--reuse")
      reuse = true;
    else if (a == "--generate-only")
      generate_only = true;
    else
      return usage(), 2;
  }
  if (!reuse || !std::filesystem::exists(dir + "/data.mdb")) {
    std::filesystem::remove_all(dir);
    generate(*open_store(dir), messages);
  }
  if (generate_only) return 0;

  std::printf("before recovery: RssAnon %ld KiB\n", rss_anon_kib());
  {
    auto store = open_store(dir);
    PeakSampler sampler;
    auto start = Clock::now();
    auto report = store->recover(now_ms());
    const double took = seconds_since(start);
    const long peak = sampler.stop();
    if (!report) die("recover: " + report.error().message);
    std::printf("recovery: %zu messages, %zu pending recipients in %.2f s, peak RssAnon %ld KiB (%.1f MiB)\n",
                report->messages, report->pending_recipients, took, peak, peak / 1024.0);
  }
  {
    auto store = open_store(dir);
    auto start = Clock::now();
    auto due = store->due_index();
    if (!due) die("due index: " + due.error().message);
    std::printf("one full read of the due index: %zu entries in %.1f ms\n", due->size(),
                seconds_since(start) * 1000);
  }
  const std::string empty_dir = dir + "-empty";
  std::filesystem::remove_all(empty_dir);
  double empty_rate = bench::run_enqueue_load(*open_store(empty_dir), bench::crlf_body(1024),
                                              "rcpt@dead.example", 50, accept_seconds)
                          .rate();
  std::filesystem::remove_all(empty_dir);
  double big_rate = bench::run_enqueue_load(*open_store(dir), bench::crlf_body(1024), "rcpt@dead.example", 50,
                                            accept_seconds)
                        .rate();
  std::printf("durable enqueue, 50 producers, 1 KiB: empty queue %.0f/s, big queue %.0f/s (%.1f%%)\n",
              empty_rate, big_rate, 100.0 * big_rate / empty_rate);
  return 0;
}
