// The queue's suppression table: keys, encoding, list/erase/purge, and that a settle writes its
// entries with its failures — both or neither, whichever LMDB operation fails.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <sstream>

#include "QueueTestSupport.hpp"
#include "queue/LocalSuppression.hpp"
#include "queue/QueueStore.hpp"
#include "queue/SuppressionOps.hpp"

namespace ferry::queue {
namespace {

using test::sample_attempt;
using test::sample_message;

constexpr TimeMs kDay = 86'400'000;

SuppressionEntry entry(std::string address, TimeMs t, std::string category = "unknown_user") {
  SuppressionEntry e;
  e.address = std::move(address);
  e.category = std::move(category);
  e.status = "5.1.1";
  e.reply = "550 5.1.1 user unknown";
  e.time_ms = t;
  e.queue_id = QueueId{0x1234};
  return e;
}

std::string dump_all(const QueueStore& s) {
  std::ostringstream o;
  o << test::dump(s);
  auto list = s.suppression_list();
  if (!list) return o.str() + "suppression error\n";
  for (const auto& e : *list)
    o << "suppressed " << e.address << " " << e.category << " " << e.time_ms << "\n";
  return o.str();
}

TEST(suppression_store, KeysAreTheLowerCasedAddress) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  ASSERT_TRUE(store->suppression_put(entry("Bob.Smith+Tag@Example.NET", 1000)));
  for (const char* variant : {"bob.smith+tag@example.net", "BOB.SMITH+TAG@EXAMPLE.NET"}) {
    auto got = store->suppression_get(variant);
    ASSERT_TRUE(got);
    ASSERT_TRUE(*got) << variant;
    EXPECT_EQ((*got)->address, "bob.smith+tag@example.net");
  }
  // Dots and +tags are not folded: they name other mailboxes at many hosts.
  for (const char* other : {"bobsmith+tag@example.net", "bob.smith@example.net"}) {
    auto got = store->suppression_get(other);
    ASSERT_TRUE(got);
    EXPECT_FALSE(*got) << other;
  }
}

TEST(suppression_store, EntryRoundTripsEveryField) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  SuppressionEntry e = entry("a@b.example", 1'700'000'000'123, "mailbox_disabled");
  e.source = SuppressionSource::Manual;
  e.reply = std::string("line one\r\nline two") + std::string(500, 'x');
  ASSERT_TRUE(store->suppression_put(e));
  auto got = store->suppression_get("a@b.example");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->category, "mailbox_disabled");
  EXPECT_EQ((*got)->status, "5.1.1");
  EXPECT_EQ((*got)->time_ms, 1'700'000'000'123);
  EXPECT_EQ((*got)->queue_id.value, 0x1234u);
  EXPECT_EQ((*got)->source, SuppressionSource::Manual);
  // The reply is kept short and on one line.
  EXPECT_EQ((*got)->reply.size(), kMaxSuppressionReply);
  EXPECT_EQ((*got)->reply.substr(0, 20), "line one  line twoxx");
}

TEST(suppression_store, DecodeRefusesGarbage) {
  const std::string good = ops::encode_suppression(entry("a@b", 5));
  EXPECT_TRUE(ops::decode_suppression("a@b", good));
  EXPECT_FALSE(ops::decode_suppression("a@b", good + "x"));
  EXPECT_FALSE(ops::decode_suppression("a@b", good.substr(0, good.size() - 1)));
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_FALSE(ops::decode_suppression("a@b", bad_version));
  std::string bad_source = good;
  bad_source.back() = 7;
  EXPECT_FALSE(ops::decode_suppression("a@b", bad_source));
}

TEST(suppression_store, RefusesEmptyAndOverlongAddresses) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  EXPECT_FALSE(store->suppression_put(entry("", 1)));
  EXPECT_FALSE(store->suppression_put(entry(std::string(kMaxSuppressionAddress, 'a') + "@b", 1)));
  auto got = store->suppression_get(std::string(300, 'a'));
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
}

TEST(suppression_store, ListEraseAndPurge) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  const TimeMs now = 100 * kDay;
  ASSERT_TRUE(store->suppression_put(entry("old@x", now - 31 * kDay)));
  ASSERT_TRUE(store->suppression_put(entry("edge@x", now - 30 * kDay)));  // exactly ttl old: expired
  ASSERT_TRUE(store->suppression_put(entry("new@x", now - 29 * kDay)));
  ASSERT_TRUE(store->suppression_put(entry("gone@x", now)));
  ASSERT_EQ(store->suppression_list()->size(), 4u);
  EXPECT_TRUE(*store->suppression_erase("GONE@x"));
  EXPECT_FALSE(*store->suppression_erase("gone@x"));
  auto purged = store->suppression_purge(now, 30 * kDay, 1);  // bounded: one per call
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1u);
  purged = store->suppression_purge(now, 30 * kDay, 100);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1u);
  auto left = store->suppression_list();
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).address, "new@x");
  EXPECT_EQ(*store->suppression_purge(now, 30 * kDay, 100), 0u);
}

TEST(suppression_store, PurgeRunsBatchedThroughWriteTxn) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  ASSERT_TRUE(store->suppression_put(entry("old@x", 0)));
  std::size_t purged = 0;
  ASSERT_TRUE(store->write([&](WriteTxn& t) -> Result<void> {
    auto n = t.suppression_purge(kDay, 1000, 10);
    if (!n) return n.error();
    purged = *n;
    return {};
  }));
  EXPECT_EQ(purged, 1u);
  EXPECT_TRUE(store->suppression_list()->empty());
}

TEST(suppression_store, LocalLookupHonoursTheTtl) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  ASSERT_TRUE(store->suppression_put(entry("a@x", 1000)));
  LocalSuppression lookup(*store, 5000);
  EXPECT_TRUE(lookup.find("A@X", 1000));
  EXPECT_TRUE(lookup.find("a@x", 5999));
  EXPECT_FALSE(lookup.find("a@x", 6000));  // an expired entry never refuses
  lookup.set_ttl(10'000);                  // a reload applies to stored entries at once
  EXPECT_TRUE(lookup.find("a@x", 6000));
  EXPECT_FALSE(lookup.find("b@x", 1000));
}

TEST(suppression_store, ReadOnlyQueueOfAnOlderFerryHasAnEmptyList) {
  test::TempDir dir;
  { auto store = test::open_store(dir.queue()); }
  QueueOptions o;
  o.path = dir.queue();
  o.read_only = true;
  auto ro = QueueStore::open(o);
  ASSERT_TRUE(ro) << ro.error().message;
  auto list = (*ro)->suppression_list();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

// --- a settle and its entries: one transaction ---

SettleRequest hard_bounce(QueueId id, QueueId bounce) {
  SettleRequest req;
  req.now_ms = 2000;
  req.results = {{id, 0, sample_attempt(AttemptOutcome::Permanent, 2000), 0}};
  auto b = sample_message(bounce, "bounce", 1, 2000);
  b.envelope.reverse_path = "";
  req.enqueue = {b};
  req.suppress = {entry("rcpt0@example.net", 2000)};
  return req;
}

TEST(suppression_atomicity, SettleWritesTheEntryWithTheFailure) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  auto id = store->allocate_id();
  auto bounce = store->allocate_id();
  ASSERT_TRUE(store->enqueue(sample_message(id, "m", 1, 1000)));
  ASSERT_TRUE(store->settle(hard_bounce(id, bounce)));
  EXPECT_EQ(store->load(id).error().kind, ErrorKind::NotFound);  // failed: nothing live
  auto got = store->suppression_get("rcpt0@example.net");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->time_ms, 2000);
}

TEST(suppression_atomicity, AFailedSuppressionWriteUndoesTheWholeSettle) {
  test::TempDir dir;
  auto store = test::open_store(dir.queue());
  auto id = store->allocate_id();
  auto bounce = store->allocate_id();
  ASSERT_TRUE(store->enqueue(sample_message(id, "m", 1, 1000)));
  const std::string before = dump_all(*store);
  // The suppression write fails (an address it refuses): the failure and its bounce go too.
  SettleRequest req = hard_bounce(id, bounce);
  req.suppress.push_back(entry(std::string(400, 'x'), 2000));
  ASSERT_FALSE(store->settle(req));
  EXPECT_EQ(dump_all(*store), before);
  EXPECT_EQ(store->load(id)->recipients[0].state, RecipientState::Pending);
  EXPECT_EQ(store->load(bounce).error().kind, ErrorKind::NotFound);
  // Its last LMDB write failing (the suppression put comes after the bounce) undoes all as well.
  auto puts = std::make_shared<std::atomic<int>>(0);
  {
    test::TempDir probe_dir;
    auto probe = test::open_store(probe_dir.queue());
    ASSERT_TRUE(probe->enqueue(sample_message(id, "m", 1, 1000)));
    probe->set_fault_hook([puts](std::string_view op) { return op == "put" ? (++*puts, 0) : 0; });
    ASSERT_TRUE(probe->settle(hard_bounce(id, bounce)));
    probe->set_fault_hook(nullptr);
  }
  // The suppression entry is the settle's last put; fail exactly that one.
  const int last_put = puts->load();
  auto seen = std::make_shared<std::atomic<int>>(0);
  store->set_fault_hook(
      [seen, last_put](std::string_view op) { return op == "put" && ++*seen == last_put ? EIO : 0; });
  ASSERT_FALSE(store->settle(hard_bounce(id, bounce)));
  store->set_fault_hook(nullptr);
  EXPECT_EQ(dump_all(*store), before);
  ASSERT_TRUE(store->settle(hard_bounce(id, bounce)));
  EXPECT_TRUE(*store->suppression_get("rcpt0@example.net"));
}

// Every LMDB operation of the settle fails in turn: each time, nothing of it remains.
TEST(suppression_atomicity, FaultSweepLeavesBothOrNeither) {
  for (int n = 1;; ++n) {
    ASSERT_LT(n, 500) << "sweep did not end";
    test::TempDir dir;
    auto store = test::open_store(dir.queue());
    auto id = store->allocate_id();
    auto bounce = store->allocate_id();
    ASSERT_TRUE(store->enqueue(sample_message(id, "m", 1, 1000)));
    const std::string before = dump_all(*store);
    auto count = std::make_shared<std::atomic<int>>(0);
    auto hit = std::make_shared<std::atomic<bool>>(false);
    store->set_fault_hook([n, count, hit](std::string_view) {
      if (++*count != n) return 0;
      *hit = true;
      return EIO;
    });
    Result<void> r = store->settle(hard_bounce(id, bounce));
    store->set_fault_hook(nullptr);
    if (!*hit) {
      ASSERT_TRUE(r) << "n=" << n;
      EXPECT_TRUE(*store->suppression_get("rcpt0@example.net"));
      break;
    }
    ASSERT_FALSE(r) << "n=" << n << ": the fault was swallowed";
    EXPECT_EQ(dump_all(*store), before) << "n=" << n << ": partial settle";
  }
}

}  // namespace
}  // namespace ferry::queue
