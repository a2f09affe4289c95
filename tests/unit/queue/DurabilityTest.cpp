// DurabilityTest: recovery after a crash, quarantine of bad records, map full, fault sweeps,
// bounce atomicity, group commit and SIGKILL during enqueue.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "QueueTestSupport.hpp"
#include "mta/ops/SystemClock.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/Schema.hpp"

namespace ferry::queue {
namespace {

using test::sample_attempt;
using test::sample_message;

// Overwrites one value with raw LMDB, as a bit flip or a foreign writer would. The store must
// be closed first: LMDB allows one env per path per process.
void write_raw(const std::string& path, const char* table, const std::string& key, const std::string& value) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, table, 0, &dbi), 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(queue_recovery, LeasedRecipientIsPendingAgainAtItsRetryTime) {
  test::TempDir dir;
  QueueId id;
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 2, 1000)));
    auto leased = store->lease_due(1000, 1, 61'000);
    ASSERT_TRUE(leased);
    ASSERT_EQ(leased->size(), 1u);
  }  // "crash": closed without settle
  auto store = test::open_store(dir.queue());
  auto report = store->recover(2000);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->messages, 1u);
  EXPECT_EQ(report->pending_recipients, 2u);
  EXPECT_EQ(report->unleased, 1u);
  EXPECT_EQ(report->quarantined, 0u);
  auto rec = store->load(id);
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->recipients[0].leased);
  EXPECT_EQ(rec->recipients[0].state, RecipientState::Pending);
  EXPECT_EQ(rec->recipients[0].next_attempt_ms, 61'000);  // not "now": no hot loop
  EXPECT_EQ(rec->recipients[0].attempts, 1u);
  // Not due before its retry time; due at it.
  auto early = store->lease_due(60'999, 10, 120'000);
  ASSERT_EQ(early->size(), 1u);
  EXPECT_EQ(early->at(0).index, 1u);
  EXPECT_EQ(store->lease_due(61'000, 10, 120'000)->size(), 1u);
}

// A crash cut the attempt short: recovery makes it due again [retry] after_crash after the
// restart (10 s by default), not at the retry time its lease recorded ([retry] first, minutes).
TEST(queue_recovery, FirstInterruptionIsDueSoonAfterTheRestart) {
  test::TempDir dir;
  QueueId id;
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 1, 1000)));
    ASSERT_EQ(store->lease_due(1000, 1, 301'000)->size(), 1u);
  }  // SIGKILL: no settle
  auto store = test::open_store(dir.queue());
  RecoveryOptions options;
  options.after_crash_ms = 10'000;
  auto report = store->recover(2000, options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->unleased, 1u);
  EXPECT_TRUE(report->suspects.empty());
  auto rec = store->load(id);
  EXPECT_FALSE(rec->recipients[0].leased);
  EXPECT_EQ(rec->recipients[0].interrupted, 1u);
  EXPECT_EQ(rec->recipients[0].next_attempt_ms, 12'000);
  EXPECT_EQ(rec->recipients[0].attempts, 1u);
  EXPECT_EQ(store->lease_due(11'999, 10, 400'000)->size(), 0u);
  EXPECT_EQ(store->lease_due(12'000, 10, 400'000)->size(), 1u);
}

// A lease whose own retry time is sooner than now + after_crash keeps it: never later.
TEST(queue_recovery, AfterCrashNeverDelaysAnEarlierRetry) {
  test::TempDir dir;
  QueueId id;
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 1, 1000)));
    ASSERT_EQ(store->lease_due(1000, 1, 3000)->size(), 1u);
  }
  auto store = test::open_store(dir.queue());
  RecoveryOptions options;
  options.after_crash_ms = 10'000;
  ASSERT_TRUE(store->recover(2000, options));
  EXPECT_EQ(store->load(id)->recipients[0].next_attempt_ms, 3000);
}

// Interrupted twice in a row: maybe the message crashes the daemon. It keeps the normal backoff
// of its lease and is reported as a suspect; a settled attempt in between starts over.
TEST(queue_recovery, SecondInterruptionInARowKeepsTheBackoffAndIsSuspect) {
  test::TempDir dir;
  QueueId id;
  RecoveryOptions options;
  options.after_crash_ms = 10'000;
  auto crash_during_attempt = [&](TimeMs now, TimeMs retry_at) {
    auto store = test::open_store(dir.queue());
    auto leased = store->lease_due(now, 10, retry_at);
    ASSERT_TRUE(leased);
    ASSERT_EQ(leased->size(), 1u);
  };
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 1, 1000)));
  }
  crash_during_attempt(1000, 301'000);
  {
    auto store = test::open_store(dir.queue());
    auto first = store->recover(2000, options);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->suspects.empty());
    EXPECT_EQ(store->load(id)->recipients[0].next_attempt_ms, 12'000);
  }
  crash_during_attempt(12'000, 612'000);
  {
    auto store = test::open_store(dir.queue());
    auto second = store->recover(13'000, options);
    ASSERT_TRUE(second);
    ASSERT_EQ(second->suspects.size(), 1u);
    EXPECT_EQ(second->suspects[0].id, id);
    EXPECT_EQ(second->suspects[0].index, 0u);
    EXPECT_EQ(second->suspects[0].due_ms, 612'000);
    auto rec = store->load(id);
    EXPECT_EQ(rec->recipients[0].interrupted, 2u);
    EXPECT_EQ(rec->recipients[0].next_attempt_ms, 612'000);  // the normal backoff
    EXPECT_EQ(rec->recipients[0].attempts, 2u);
    // The attempt at 612 s finishes (deferred): the count starts over.
    ASSERT_EQ(store->lease_due(612'000, 10, 1'200'000)->size(), 1u);
    SettleRequest settle;
    settle.now_ms = 612'500;
    settle.results.push_back({id, 0, sample_attempt(AttemptOutcome::Transient, 612'500), 700'000});
    ASSERT_TRUE(store->settle(settle));
    EXPECT_EQ(store->load(id)->recipients[0].interrupted, 0u);
  }
  crash_during_attempt(700'000, 1'300'000);
  auto store = test::open_store(dir.queue());
  auto third = store->recover(701'000, options);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->suspects.empty());
  EXPECT_EQ(store->load(id)->recipients[0].next_attempt_ms, 711'000);
}

TEST(queue_recovery, RepairsTheDueIndex) {
  test::TempDir dir;
  QueueId id;
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 1, 1000)));
  }
  write_raw(dir.queue(), schema::kDue, schema::due_key(5, QueueId{77}, 0), "");  // dangling
  auto store = test::open_store(dir.queue());
  ASSERT_EQ(store->due_index()->size(), 2u);
  ASSERT_TRUE(store->recover(2000));
  auto due = store->due_index();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).id, id);
}

// A second entry for a live recipient, at a time its record does not say, is stale: dropped,
// while the one its record names stays (recovery matches entries to recipients exactly).
TEST(queue_recovery, DropsAStaleSecondDueEntryOfALiveRecipient) {
  test::TempDir dir;
  QueueId id;
  {
    auto store = test::open_store(dir.queue());
    id = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "x", 1, 1000)));
  }
  write_raw(dir.queue(), schema::kDue, schema::due_key(5, id, 0), "");
  auto store = test::open_store(dir.queue());
  ASSERT_EQ(store->due_index()->size(), 2u);
  auto report = store->recover(2000);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->pending_recipients, 1u);
  auto due = store->due_index();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).due_ms, 1000);
}

TEST(queue_quarantine, GarbageRecordIsReportedQuarantinedAndListed) {
  test::TempDir dir;
  QueueId good, bad;
  {
    auto store = test::open_store(dir.queue());
    good = store->allocate_id();
    bad = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(good)));
    ASSERT_TRUE(store->enqueue(sample_message(bad)));
  }
  write_raw(dir.queue(), schema::kMessages, schema::message_key(bad), "\x07garbage");
  auto store = test::open_store(dir.queue());
  auto load = store->load(bad);
  ASSERT_FALSE(load);
  EXPECT_EQ(load.error().kind, ErrorKind::Corrupt);
  std::size_t visited = 0;
  auto each = store->for_each([&](const MessageRecord&) {
    ++visited;
    return true;
  });
  EXPECT_EQ(visited, 1u);  // the good one is still shown
  ASSERT_FALSE(each);
  EXPECT_EQ(each.error().kind, ErrorKind::Corrupt);

  auto report = store->recover(5000);
  ASSERT_TRUE(report) << report.error().message;
  // The message record, its two recipient records and its body chunk.
  EXPECT_EQ(report->quarantined, 4u);
  EXPECT_EQ(report->messages, 1u);
  auto q = store->quarantined();
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  bool found = false;
  for (const auto& r : *q)
    if (r.table == "messages") {
      found = true;
      EXPECT_EQ(r.key_hex, schema::to_hex(schema::message_key(bad)));
      EXPECT_EQ(r.size, 8u);
      EXPECT_FALSE(r.reason.empty());
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(store->load(bad).error().kind, ErrorKind::NotFound);
  EXPECT_TRUE(store->for_each([](const MessageRecord&) { return true; }));
  EXPECT_TRUE(store->load(good));
  auto due = store->due_index();
  ASSERT_TRUE(due);
  for (const auto& d : *due) EXPECT_EQ(d.id, good);
  EXPECT_TRUE(store->enqueue(sample_message(store->allocate_id())));
}

TEST(queue_quarantine, LeaseDueMovesACorruptRecipientAsideAndContinues) {
  test::TempDir dir;
  QueueId a, b;
  {
    auto store = test::open_store(dir.queue());
    a = store->allocate_id();
    b = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(a, "x", 1, 1000)));
    ASSERT_TRUE(store->enqueue(sample_message(b, "x", 1, 2000)));
  }
  write_raw(dir.queue(), schema::kRecipients, schema::recipient_key(a, 0), std::string("\x01\x00", 2));
  auto store = test::open_store(dir.queue());
  EXPECT_EQ(store->load(a).error().kind, ErrorKind::Corrupt);
  auto leased = store->lease_due(5000, 10, 9000);
  ASSERT_TRUE(leased) << leased.error().message;
  ASSERT_EQ(leased->size(), 1u);
  EXPECT_EQ(leased->at(0).id, b);
  EXPECT_EQ(store->quarantined()->size(), 1u);
}

TEST(queue_map_full, LargeEnqueueFailsCleanlyAndSpaceComesBack) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue(), 1u << 20);
  std::vector<QueueId> small;
  for (int i = 0; i < 5; ++i) {
    small.push_back(store->allocate_id());
    ASSERT_TRUE(store->enqueue(sample_message(small.back(), std::string(50'000, 's'), 1)));
  }
  std::string before = test::dump(*store);
  auto big = sample_message(store->allocate_id(), std::string(2u << 20, 'B'), 1);
  auto r = store->enqueue(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::MapFull) << r.error().message;
  EXPECT_TRUE(r.error().is_space());
  EXPECT_EQ(test::dump(*store), before);
  EXPECT_EQ(store->load(big.id).error().kind, ErrorKind::NotFound);
  // Fill up with small ones until full, then delete: small enqueues work again.
  int added = 0;
  for (;; ++added) {
    auto id = store->allocate_id();
    auto e = store->enqueue(sample_message(id, std::string(50'000, 'f'), 1));
    if (!e) {
      EXPECT_EQ(e.error().kind, ErrorKind::MapFull);
      break;
    }
    small.push_back(id);
    ASSERT_LT(added, 100);
  }
  for (auto id : small) ASSERT_TRUE(store->remove(id));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(store->enqueue(sample_message(store->allocate_id(), "small", 1)));
}

TEST(queue_map_full, OneOversizedRequestInABatchFailsAlone) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue(), 1u << 20);
  auto ok1 = sample_message(store->allocate_id(), "a", 1);
  auto big = sample_message(store->allocate_id(), std::string(2u << 20, 'B'), 1);
  auto ok2 = sample_message(store->allocate_id(), "b", 1);
  std::vector<Result<void>> results;
  ASSERT_TRUE(store->write([&](WriteTxn& txn) {
    results.push_back(txn.enqueue(ok1));
    results.push_back(txn.enqueue(big));
    results.push_back(txn.enqueue(ok2));
    return Result<void>();
  }));
  EXPECT_TRUE(results[0]);
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().kind, ErrorKind::MapFull);
  EXPECT_TRUE(results[2]);
  EXPECT_TRUE(store->load(ok1.id));
  EXPECT_TRUE(store->load(ok2.id));
  EXPECT_EQ(store->load(big.id).error().kind, ErrorKind::NotFound);
}

// A hook failing the n-th LMDB operation (counted from when it is installed).
struct FailNth {
  explicit FailNth(int n) : n(n) {}
  int n;
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> hit = std::make_shared<std::atomic<bool>>(false);
  FaultHook hook() {
    return [n = n, count = count, hit = hit](std::string_view) {
      if (++*count == n) {
        *hit = true;
        return EIO;
      }
      return 0;
    };
  }
};

// Runs `op` with the n-th LMDB operation failing, for n = 1, 2, ... until it succeeds untouched.
template <typename Setup, typename Op>
void fault_sweep(Setup setup, Op op) {
  for (int n = 1;; ++n) {
    ASSERT_LT(n, 500) << "sweep did not end";
    test::TempDir dir;
    auto store = test::open_store(dir.queue());
    setup(*store);
    std::string before = test::dump(*store);
    FailNth fail(n);
    store->set_fault_hook(fail.hook());
    Result<void> r = op(*store);
    store->set_fault_hook(nullptr);
    if (!*fail.hit) {
      ASSERT_TRUE(r) << "n=" << n << ": " << r.error().message;
      break;
    }
    ASSERT_FALSE(r) << "n=" << n << ": the fault was swallowed";
    EXPECT_EQ(test::dump(*store), before) << "n=" << n << ": partial write after " << r.error().message;
    ASSERT_TRUE(op(*store)) << "n=" << n << ": store unusable after the fault";
  }
}

TEST(queue_fault_sweep, Enqueue) {
  QueueId id{0};
  fault_sweep([&](QueueStore& s) { id = s.allocate_id(); },
              [&](QueueStore& s) { return s.enqueue(sample_message(id, std::string(600'000, 'e'), 3)); });
}

TEST(queue_fault_sweep, SettleWithBounce) {
  QueueId id{0}, bounce{0};
  fault_sweep(
      [&](QueueStore& s) {
        id = s.allocate_id();
        bounce = s.allocate_id();
        ASSERT_TRUE(s.enqueue(sample_message(id, "m", 2, 1000)));
        ASSERT_TRUE(s.lease({{id, 0, 0}, {id, 1, 0}}, 1000, 5000));
      },
      [&](QueueStore& s) {
        SettleRequest req;
        req.now_ms = 2000;
        req.results = {{id, 0, sample_attempt(AttemptOutcome::Permanent, 2000), 0},
                       {id, 1, sample_attempt(AttemptOutcome::Transient, 2000), 9000}};
        auto b = sample_message(bounce, "bounce", 1, 2000);
        b.envelope.reverse_path = "";
        req.enqueue = {b};
        req.mark_delay_warned = {id};
        return s.settle(req);
      });
}

TEST(queue_fault_sweep, BatchedSettleThroughWriteTxn) {
  QueueId id{0}, bounce{0};
  fault_sweep(
      [&](QueueStore& s) {
        id = s.allocate_id();
        bounce = s.allocate_id();
        ASSERT_TRUE(s.enqueue(sample_message(id, "m", 1, 1000)));
      },
      [&](QueueStore& s) {
        return s.write([&](WriteTxn& txn) {
          SettleRequest req;
          req.results = {{id, 0, sample_attempt(AttemptOutcome::Permanent, 2000), 0}};
          req.enqueue = {sample_message(bounce, "bounce", 1, 2000)};
          return txn.settle(req);
        });
      });
}

TEST(queue_bounce_atomicity, FailureAndBounceAreBothOrNeither) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  auto id = store->allocate_id();
  auto bounce = store->allocate_id();
  ASSERT_TRUE(store->enqueue(sample_message(id, "m", 1, 1000)));
  SettleRequest req;
  req.results = {{id, 0, sample_attempt(AttemptOutcome::Permanent, 2000), 0}};
  req.enqueue = {sample_message(bounce, "bounce", 1, 2000)};
  // Fail the commit itself: neither the failure nor the bounce may appear.
  store->set_fault_hook([](std::string_view op) { return op == "txn_commit" ? EIO : 0; });
  ASSERT_FALSE(store->settle(req));
  store->set_fault_hook(nullptr);
  EXPECT_EQ(store->load(id)->recipients[0].state, RecipientState::Pending);
  EXPECT_EQ(store->load(bounce).error().kind, ErrorKind::NotFound);
  // The bounce's id already exists -> the whole settle fails, the recipient is not failed.
  ASSERT_TRUE(store->enqueue(sample_message(bounce, "squatter", 1, 0)));
  ASSERT_FALSE(store->settle(req));
  EXPECT_EQ(store->load(id)->recipients[0].state, RecipientState::Pending);
  ASSERT_TRUE(store->remove(bounce));
  ASSERT_TRUE(store->settle(req));
  EXPECT_EQ(store->load(id).error().kind, ErrorKind::NotFound);  // nothing live: deleted
  EXPECT_EQ(*store->read_body(bounce), "bounce");
}

TEST(queue_commit_batcher, GroupCommitUnderConcurrency) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  CommitBatcher batcher(*store);
  constexpr int kThreads = 16, kEach = 50;
  std::vector<std::vector<QueueId>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto id = store->allocate_id();
        std::promise<Result<void>> done;
        auto fut = done.get_future();
        batcher.submit_enqueue(sample_message(id, "body " + id.str(), 1),
                               [&done](Result<void> r) { done.set_value(std::move(r)); });
        if (!fut.get()) ++failures;
        ids[t].push_back(id);
      }
    });
  for (auto& th : threads) th.join();
  batcher.stop();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& list : ids)
    for (auto id : list) {
      ASSERT_TRUE(store->load(id));
      EXPECT_EQ(*store->read_body(id), "body " + id.str());
    }
  auto st = batcher.stats();
  EXPECT_EQ(st.requests, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_GT(st.largest_batch, 1u);
  EXPECT_LT(st.commits, st.requests);
  EXPECT_EQ(store->stats()->messages, static_cast<std::size_t>(kThreads * kEach));
}

TEST(queue_commit_batcher, FailingRequestFailsAloneAndStopDrains) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  auto dup = store->allocate_id();
  ASSERT_TRUE(store->enqueue(sample_message(dup)));
  std::vector<int> outcome(20, -1);
  {
    CommitBatcher batcher(*store, 8);
    for (int i = 0; i < 20; ++i) {
      auto id = i == 7 ? dup : store->allocate_id();
      batcher.submit_enqueue(sample_message(id), [&outcome, i](Result<void> r) { outcome[i] = r ? 1 : 0; });
    }
  }  // destructor drains
  for (int i = 0; i < 20; ++i) EXPECT_EQ(outcome[i], i == 7 ? 0 : 1) << i;
  EXPECT_EQ(store->stats()->messages, 20u);
}

// A batch runs its requests directly in one transaction; when one fails (here after a write of
// its own), the batch runs again with each request nested: what the failing one wrote is gone,
// the others commit, and the requests before the failing one ran twice (those after it are not
// run in the abandoned attempt). Without a failure, each ran once.
TEST(queue_commit_batcher, ARequestFailingAfterItsWritesIsUndoneAndTheOthersCommit) {
  struct Case {
    bool fail;
    int runs_before;
  };
  for (const Case& c : {Case{false, 1}, Case{true, 2}}) {
    SCOPED_TRACE(c.fail);
    test::TempDir dir;
    auto store = test::open_store(dir.queue());
    const QueueId a = store->allocate_id(), b = store->allocate_id(), d = store->allocate_id();
    std::atomic<int> runs_a{0}, runs_d{0};
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::vector<int> outcome(4, -1);
    {
      CommitBatcher batcher(*store, 8);
      // The first batch holds the writer until the three others are queued: they form one batch.
      batcher.submit(
          [released](WriteTxn&) {
            released.wait();
            return Result<void>();
          },
          [&outcome](Result<void> r) { outcome[0] = r ? 1 : 0; });
      auto counted = [](QueueId id, std::atomic<int>& runs) {
        return [id, &runs](WriteTxn& t) {
          ++runs;
          return t.enqueue(sample_message(id, "x", 1));
        };
      };
      batcher.submit(counted(a, runs_a), [&outcome](Result<void> r) { outcome[1] = r ? 1 : 0; });
      batcher.submit(
          [b, fail = c.fail](WriteTxn& t) -> Result<void> {
            if (auto r = t.enqueue(sample_message(b, "y", 1)); !r) return r;
            if (fail) return make_error(ErrorKind::Corrupt, "fails after writing");
            return {};
          },
          [&outcome](Result<void> r) { outcome[2] = r ? 1 : 0; });
      batcher.submit(counted(d, runs_d), [&outcome](Result<void> r) { outcome[3] = r ? 1 : 0; });
      release.set_value();
    }  // destructor drains
    EXPECT_EQ(outcome, (std::vector<int>{1, 1, c.fail ? 0 : 1, 1}));
    EXPECT_TRUE(store->load(a));
    EXPECT_TRUE(store->load(d));
    EXPECT_EQ(static_cast<bool>(store->load(b)), !c.fail);
    EXPECT_EQ(runs_a.load(), c.runs_before);
    EXPECT_EQ(runs_d.load(), 1);
  }
}

TEST(queue_crash, SigkillDuringEnqueueLosesNothingAcknowledged) {
  std::mt19937 rng(20240601);
  std::size_t total_acked = 0;
  for (int round = 0; round < 8; ++round) {
    test::TempDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      QueueOptions o;
      o.path = dir.queue();
      o.map_size = 256u << 20;
      auto s = QueueStore::open(o);
      if (!s) ::_exit(2);
      std::uint64_t ready = 0;  // id 0 is never allocated: it means "open, starting to enqueue"
      if (::write(fds[1], &ready, sizeof ready) != sizeof ready) ::_exit(4);
      for (std::uint64_t n = 0;; ++n) {
        auto id = (*s)->allocate_id();
        auto m = sample_message(id, std::string(1000 + (n % 7) * 70'000, static_cast<char>('a' + n % 26)),
                                1 + n % 3);
        if (!(*s)->enqueue(m)) ::_exit(3);
        if (::write(fds[1], &id.value, sizeof id.value) != sizeof id.value) ::_exit(4);
      }
    }
    ::close(fds[1]);
    std::uint64_t ready = 1;
    ASSERT_EQ(::read(fds[0], &ready, sizeof ready), static_cast<ssize_t>(sizeof ready));
    ASSERT_EQ(ready, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 281));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    std::vector<std::uint64_t> acked;
    std::uint64_t v;
    while (::read(fds[0], &v, sizeof v) == sizeof v) acked.push_back(v);
    ::close(fds[0]);
    total_acked += acked.size();
    auto store = test::open_store(dir.queue(), 256u << 20);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->recover(now_ms()));
    for (std::size_t n = 0; n < acked.size(); ++n) {
      QueueId id{acked[n]};
      auto rec = store->load(id);
      ASSERT_TRUE(rec) << "round " << round << ": acknowledged " << id.str() << " lost";
      EXPECT_EQ(rec->envelope.recipients.size(), 1 + n % 3);
      EXPECT_EQ(rec->recipients.size(), 1 + n % 3);
      EXPECT_EQ(rec->envelope.client.helo, "mx.example.org");
      auto body = store->read_body(id);
      ASSERT_TRUE(body);
      EXPECT_TRUE(*body == std::string(1000 + (n % 7) * 70'000, static_cast<char>('a' + n % 26)));
    }
    EXPECT_TRUE(store->quarantined()->empty());
  }
  EXPECT_GE(total_acked, 8u) << "the child never acknowledged an enqueue: the test proved nothing";
  RecordProperty("acknowledged", static_cast<int>(total_acked));
}

}  // namespace
}  // namespace ferry::queue
