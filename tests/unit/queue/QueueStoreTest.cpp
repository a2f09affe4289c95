// QueueStoreTest: every queue operation through the public API, one behaviour per test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "QueueTestSupport.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::queue {
namespace {

using test::sample_attempt;
using test::sample_message;

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = test::open_store(dir.queue());
    ASSERT_TRUE(store);
  }
  QueueId enqueue(TimeMs due = 1000, std::size_t rcpts = 2, std::string body = "hello\r\n") {
    auto id = store->allocate_id();
    auto r = store->enqueue(sample_message(id, std::move(body), rcpts, due));
    EXPECT_TRUE(r) << r.error().message;
    return id;
  }
  RecipientResult result(QueueId id, std::uint32_t index, AttemptOutcome o, TimeMs now, TimeMs next = 0) {
    return RecipientResult{id, index, sample_attempt(o, now), next};
  }
  test::TempDir dir;
  std::unique_ptr<QueueStore> store;
};
// Suite names start with "queue" so `ctest -R queue` selects this module's tests.
using queue_store = QueueStoreTest;

TEST_F(queue_store, DirectoryIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat(dir.queue().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// A new queue appears whole or not at all: a first start that fails before its first transaction
// is committed (here: a map too small for the schema) leaves no data.mdb behind, so a power cut
// at that moment cannot leave a file LMDB refuses at the next start.
TEST(queue_create, FailedCreationLeavesNoDataFile) {
  test::TempDir dir;
  QueueOptions o;
  o.path = dir.queue();
  o.map_size = 8192;  // two pages: the meta pages fit, the schema transaction does not
  auto failed = QueueStore::open(o);
  ASSERT_FALSE(failed);
  EXPECT_FALSE(std::filesystem::exists(dir.queue() + "/data.mdb"));
  auto store = test::open_store(dir.queue());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->enqueue(sample_message(store->allocate_id())));
}

// What an interrupted first start leaves (a half-written environment aside) holds no mail: it is
// removed and the queue is created.
TEST(queue_create, LeftoverOfAnInterruptedCreationIsRemoved) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.queue() + "/.creating");
  { std::ofstream(dir.queue() + "/.creating/data.mdb") << "partial"; }
  auto store = test::open_store(dir.queue());
  ASSERT_TRUE(store);
  EXPECT_FALSE(std::filesystem::exists(dir.queue() + "/.creating"));
  EXPECT_TRUE(std::filesystem::exists(dir.queue() + "/data.mdb"));
  const auto id = store->allocate_id();
  ASSERT_TRUE(store->enqueue(sample_message(id)));
  store.reset();
  store = test::open_store(dir.queue());  // an existing queue is opened in place
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->load(id));
}

TEST_F(queue_store, IdsAreUniqueAndIncreasing) {
  std::set<std::uint64_t> seen;
  std::uint64_t last = 0;
  for (int i = 0; i < 10000; ++i) {
    auto id = store->allocate_id();
    EXPECT_GT(id.value, last);
    last = id.value;
    seen.insert(id.value);
  }
  EXPECT_EQ(seen.size(), 10000u);
  EXPECT_NEAR(static_cast<double>(last >> 20), static_cast<double>(now_ms()), 5000.0);
}

TEST_F(queue_store, IdsStayAboveStoredIdsAfterReopen) {
  QueueId future{(static_cast<std::uint64_t>(now_ms()) + 3'600'000) << 20};
  ASSERT_TRUE(store->enqueue(sample_message(future)));
  store.reset();
  store = test::open_store(dir.queue());
  EXPECT_GT(store->allocate_id().value, future.value);
}

TEST_F(queue_store, EnqueueLoadAndReadBody) {
  auto id = store->allocate_id();
  auto m = sample_message(id, "Subject: x\r\n\r\nhi\r\n", 3, 500);
  ASSERT_TRUE(store->enqueue(m));
  auto rec = store->load(id);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->id, id);
  EXPECT_EQ(rec->envelope.reverse_path, m.envelope.reverse_path);
  EXPECT_EQ(rec->envelope.recipients.size(), 3u);
  EXPECT_EQ(rec->envelope.recipients[2].address, "rcpt2@example.net");
  ASSERT_EQ(rec->recipients.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rec->recipients[i].index, i);
    EXPECT_EQ(rec->recipients[i].state, RecipientState::Pending);
    EXPECT_EQ(rec->recipients[i].next_attempt_ms, 500);
    EXPECT_FALSE(rec->recipients[i].leased);
  }
  auto body = store->read_body(id);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, m.body);
}

TEST_F(queue_store, LargeBodySpansChunksByteExact) {
  std::string body(5u << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : body) c = static_cast<char>(rng());
  auto id = enqueue(1000, 1, body);
  auto back = store->read_body(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), body.size());
  EXPECT_TRUE(*back == body);
  auto empty = enqueue(1000, 1, "");
  auto e = store->read_body(empty);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
}

TEST_F(queue_store, DuplicateIdIsExists) {
  auto id = enqueue();
  auto r = store->enqueue(sample_message(id));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Exists);
}

TEST_F(queue_store, InvalidMessagesAreRefused) {
  auto r = store->enqueue(sample_message(store->allocate_id(), "x", 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
}

TEST_F(queue_store, UnknownIdIsNotFound) {
  QueueId nobody{12345};
  EXPECT_EQ(store->load(nobody).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->read_body(nobody).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->hold(nobody).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->release(nobody, 1).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->remove(nobody).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->flush(nobody, 1).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->lease({{nobody, 0, 0}}, 1, 2).error().kind, ErrorKind::NotFound);
}

TEST_F(queue_store, LeaseDueInDueOrderUpToLimit) {
  auto late = enqueue(3000, 1);
  auto early = enqueue(1000, 1);
  auto mid = enqueue(2000, 2);
  auto future = enqueue(9000, 1);
  auto leased = store->lease_due(5000, 3, 60000);
  ASSERT_TRUE(leased);
  ASSERT_EQ(leased->size(), 3u);
  EXPECT_EQ((*leased)[0].id, early);
  EXPECT_EQ((*leased)[1].id, mid);
  EXPECT_EQ((*leased)[2].id, mid);
  EXPECT_EQ((*leased)[2].index, 1u);
  EXPECT_EQ((*leased)[0].due_ms, 1000);
  auto rest = store->lease_due(5000, 10, 60000);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, late);
  // Everything due is leased now: nothing more until the retry time, and `future` not before 9000.
  EXPECT_TRUE(store->lease_due(8999, 10, 60000)->empty());
  EXPECT_EQ(store->lease_due(9000, 10, 60000)->at(0).id, future);
}

TEST_F(queue_store, LeaseRecordsTheAttemptBeforeItIsMade) {
  auto id = enqueue(1000, 2);
  ASSERT_TRUE(store->lease({{id, 1, 1000}}, 1500, 61500));
  auto rec = store->load(id);
  ASSERT_TRUE(rec);
  const auto& r = rec->recipients[1];
  EXPECT_TRUE(r.leased);
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(r.first_attempt_ms, 1500);
  EXPECT_EQ(r.next_attempt_ms, 61500);
  EXPECT_FALSE(rec->recipients[0].leased);
  auto due = store->due_index();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[1].due_ms, 61500);
  EXPECT_EQ((*due)[1].index, 1u);
  // Leasing twice is refused (all or nothing); try_lease skips it.
  auto again = store->lease({{id, 0, 0}, {id, 1, 0}}, 1600, 2000);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::NotFound);
  EXPECT_FALSE(store->load(id)->recipients[0].leased);
  auto some = store->try_lease({{id, 0, 0}, {id, 1, 0}, {QueueId{1}, 0, 0}}, 1600, 2000);
  ASSERT_TRUE(some);
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ((*some)[0].index, 0u);
  EXPECT_EQ(store->load(id)->recipients[0].first_attempt_ms, 1600);
}

TEST_F(queue_store, SettleEachOutcome) {
  auto id = enqueue(1000, 4);
  ASSERT_TRUE(store->lease({{id, 0, 0}, {id, 1, 0}, {id, 2, 0}, {id, 3, 0}}, 1000, 5000));
  SettleRequest req;
  req.now_ms = 2000;
  req.results = {
      result(id, 0, AttemptOutcome::Delivered, 2000), result(id, 1, AttemptOutcome::Transient, 2000, 9000),
      result(id, 2, AttemptOutcome::Permanent, 2000), result(id, 3, AttemptOutcome::Expired, 2000)};
  ASSERT_TRUE(store->settle(req));
  auto rec = store->load(id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->recipients[0].state, RecipientState::Delivered);
  EXPECT_EQ(rec->recipients[1].state, RecipientState::Pending);
  EXPECT_EQ(rec->recipients[1].next_attempt_ms, 9000);
  EXPECT_EQ(rec->recipients[2].state, RecipientState::Failed);
  EXPECT_EQ(rec->recipients[3].state, RecipientState::Failed);
  for (const auto& r : rec->recipients) {
    EXPECT_FALSE(r.leased);
    ASSERT_TRUE(r.last);
    EXPECT_EQ(r.last->time_ms, 2000);
    EXPECT_EQ(r.history.size(), 1u);
  }
  auto due = store->due_index();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].index, 1u);
  EXPECT_EQ((*due)[0].due_ms, 9000);
}

TEST_F(queue_store, HistoryIsBounded) {
  auto id = enqueue(0, 1);
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(store->lease({{id, 0, 0}}, i, i + 1));
    SettleRequest req;
    req.results = {result(id, 0, AttemptOutcome::Transient, 100 + i, i)};
    ASSERT_TRUE(store->settle(req));
  }
  auto r = store->load(id)->recipients[0];
  EXPECT_EQ(r.attempts, 15u);
  ASSERT_EQ(r.history.size(), kMaxHistory);
  EXPECT_EQ(r.history.front().time_ms, 105);  // the oldest five were dropped
  EXPECT_EQ(r.history.back().time_ms, 114);
  EXPECT_EQ(r.last->time_ms, 114);
}

TEST_F(queue_store, MessageDeletedWhenNothingLiveRemains) {
  auto id = enqueue(1000, 2, std::string(600 * 1024, 'b'));
  SettleRequest req;
  req.results = {result(id, 0, AttemptOutcome::Delivered, 2000)};
  ASSERT_TRUE(store->settle(req));
  ASSERT_TRUE(store->load(id));
  req.results = {result(id, 1, AttemptOutcome::Permanent, 2000)};
  ASSERT_TRUE(store->settle(req));
  EXPECT_EQ(store->load(id).error().kind, ErrorKind::NotFound);
  EXPECT_EQ(store->read_body(id).error().kind, ErrorKind::NotFound);
  EXPECT_TRUE(store->due_index()->empty());
  EXPECT_EQ(store->stats()->messages, 0u);
  // A late result for the deleted message is ignored (an operator may have removed it).
  req.results = {result(id, 1, AttemptOutcome::Delivered, 3000)};
  EXPECT_TRUE(store->settle(req));
  // ...but a bad index on a live message is the caller's bug.
  auto other = enqueue();
  req.results = {result(other, 9, AttemptOutcome::Delivered, 3000)};
  EXPECT_EQ(store->settle(req).error().kind, ErrorKind::Invalid);
}

TEST_F(queue_store, SettleEnqueuesBouncesAndMarksDelayWarning) {
  auto id = enqueue(1000, 2);
  auto bounce_id = store->allocate_id();
  auto bounce = sample_message(bounce_id, "bounce body", 1, 2000);
  bounce.envelope.reverse_path = "";
  SettleRequest req;
  req.now_ms = 2000;
  req.results = {result(id, 0, AttemptOutcome::Permanent, 2000)};
  req.enqueue = {bounce};
  req.mark_delay_warned = {id};
  ASSERT_TRUE(store->settle(req));
  EXPECT_EQ(store->load(id)->delay_warning_sent_ms, 2000);
  auto b = store->load(bounce_id);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->envelope.is_bounce());
  EXPECT_EQ(*store->read_body(bounce_id), "bounce body");
}

TEST_F(queue_store, HoldReleaseFlushRemove) {
  auto id = enqueue(50'000, 2);
  auto other = enqueue(60'000, 1);
  ASSERT_TRUE(store->hold(id));
  auto held = store->load(id);
  for (const auto& r : held->recipients) EXPECT_EQ(r.state, RecipientState::Held);
  ASSERT_EQ(store->due_index()->size(), 1u);
  EXPECT_TRUE(store->lease_due(100'000, 10, 200'000)->size() == 1);  // only `other`
  ASSERT_TRUE(store->release(id, 7000));
  auto released = store->load(id);
  for (const auto& r : released->recipients) {
    EXPECT_EQ(r.state, RecipientState::Pending);
    EXPECT_EQ(r.next_attempt_ms, 7000);
  }
  auto third = enqueue(90'000, 1);
  ASSERT_TRUE(store->flush(third, 8000));
  EXPECT_EQ(store->load(third)->recipients[0].next_attempt_ms, 8000);
  auto fourth = enqueue(95'000, 1);
  ASSERT_TRUE(store->flush(std::nullopt, 8500));
  EXPECT_EQ(store->load(fourth)->recipients[0].next_attempt_ms, 8500);
  EXPECT_EQ(store->load(id)->recipients[0].next_attempt_ms, 7000);        // already due: unchanged
  EXPECT_EQ(store->load(other)->recipients[0].next_attempt_ms, 200'000);  // leased: left alone
  ASSERT_TRUE(store->remove(id));
  EXPECT_EQ(store->load(id).error().kind, ErrorKind::NotFound);
  auto due = store->due_index();
  for (const auto& d : *due) EXPECT_NE(d.id, id);
  EXPECT_EQ(store->due_index()->size(), 3u);
}

TEST_F(queue_store, ForEachInIdOrderAndStops) {
  std::vector<QueueId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(enqueue());
  std::vector<QueueId> seen;
  ASSERT_TRUE(store->for_each([&](const MessageRecord& m) {
    seen.push_back(m.id);
    return true;
  }));
  EXPECT_EQ(seen, ids);
  seen.clear();
  ASSERT_TRUE(store->for_each([&](const MessageRecord& m) {
    seen.push_back(m.id);
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(queue_store, Stats) {
  enqueue();
  enqueue();
  auto s = store->stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->messages, 2u);
  EXPECT_EQ(s->map_size, 64ull << 20);
  EXPECT_GT(s->map_used, 0u);
  EXPECT_LT(s->map_used, s->map_size);
}

TEST_F(queue_store, ReadOnlyOpenSeesData) {
  auto id = enqueue();
  QueueOptions o;
  o.path = dir.queue();
  o.read_only = true;
  store.reset();  // one env per process per path (LMDB rule)
  auto ro = QueueStore::open(o);
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_TRUE((*ro)->load(id));
  EXPECT_FALSE((*ro)->enqueue(sample_message((*ro)->allocate_id())));
}

}  // namespace
}  // namespace ferry::queue
