// DueWindowSync against a real queue: the scheduler holds a bounded window of the due index, a
// refill reads the next entries as the window drains, a reload follows holds, deletes and flushes
// made by another process, and entries in flight are never put back by a read.
#include "mta/outbound/DueWindowSync.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "unit/queue/QueueTestSupport.hpp"

namespace ferry::outbound {
namespace {

constexpr TimeMs kT0 = 1'000'000'000'000;  // the messages are due one a second from here

class DueWindowSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = queue::test::open_store(dir_.queue());
    // Two recipients at the same destination, one message per second of due time.
    auto w = store_->write([&](queue::WriteTxn& t) -> Result<void> {
      for (int i = 0; i < 100; ++i) {
        queue::NewMessage m;
        m.id = QueueId{static_cast<std::uint64_t>(1000 + i)};
        m.envelope.reverse_path = "a@example.org";
        m.envelope.recipients = {{"x@dead.example", "", 0}, {"y@dead.example", "", 0}};
        m.body = "Subject: s\r\n\r\nb\r\n";
        m.envelope.size = m.body.size();
        m.first_due_ms = kT0 + i * 1000;
        ids_.push_back(m.id);
        if (auto r = t.enqueue(m); !r) return r;
      }
      return {};
    });
    ASSERT_TRUE(w.ok()) << w.error().message;
    sync_ = std::make_unique<DueWindowSync>(
        *store_, scheduler_, in_flight_, [](std::string_view a) { return std::string(delivery_domain(a)); },
        20);
  }
  static std::string_view delivery_domain(std::string_view a) { return a.substr(a.rfind('@') + 1); }

  // Takes every batch due at `now` as the dispatcher does (into flight).
  std::size_t take(TimeMs now) {
    std::size_t n = 0;
    for (auto& b : scheduler_.take_ready(now)) {
      for (auto idx : b.recipients) {
        sync_->taken({b.queue_id, idx});
        in_flight_.insert({b.queue_id, idx});
        ++n;
      }
      scheduler_.release(b.destination);
    }
    return n;
  }

  queue::test::TempDir dir_;
  std::unique_ptr<queue::QueueStore> store_;
  delivery::Scheduler scheduler_{delivery::SchedulerLimits{1000, 1000, 0}};
  std::set<DueWindowSync::Key> in_flight_;
  std::unique_ptr<DueWindowSync> sync_;
  std::vector<QueueId> ids_;
};

TEST_F(DueWindowSyncTest, ReloadHoldsOnlyTheSoonestWindow) {
  sync_->reload();
  EXPECT_EQ(sync_->size(), 20u);  // 200 recipients queued, 20 in memory
  EXPECT_EQ(scheduler_.size(), 20u);
  ASSERT_FALSE(sync_->window().complete());
  EXPECT_EQ(sync_->window().bound()->id, ids_[9]);  // the 20th soonest: message 9, recipient 1
  EXPECT_TRUE(scheduler_.contains(ids_[0], 0));
  EXPECT_FALSE(scheduler_.contains(ids_[10], 0));
}

TEST_F(DueWindowSyncTest, RefillReadsTheNextEntriesAsTheWindowDrains) {
  sync_->reload();
  EXPECT_EQ(take(kT0 + 5'000), 12u);  // messages 0..5
  sync_->refill(kT0 + 5'000);         // 8 left: below half, back up to 20
  EXPECT_EQ(sync_->size(), 20u);
  EXPECT_TRUE(scheduler_.contains(ids_[15], 1));
  EXPECT_FALSE(scheduler_.contains(ids_[16], 0));
  // The window's end is due: half a window more, though memory is not low.
  sync_->refill(kT0 + 15'000);
  EXPECT_EQ(sync_->size(), 30u);
  // Draining everything reaches the end of the index: the window is then complete.
  for (int i = 0; i < 20 && !sync_->window().complete(); ++i) {
    take(kT0 + 1'000'000);
    sync_->refill(kT0 + 1'000'000);
  }
  EXPECT_TRUE(sync_->window().complete());
  take(kT0 + 1'000'000);
  EXPECT_EQ(in_flight_.size(), 200u);  // every recipient was handed out exactly once
  EXPECT_EQ(sync_->size(), 0u);
}

TEST_F(DueWindowSyncTest, ReloadFollowsAnotherProcesssChanges) {
  sync_->reload();
  ASSERT_TRUE(store_->hold(ids_[1]).ok());                // inside the window: leaves memory
  ASSERT_TRUE(store_->remove(ids_[2]).ok());              // deleted: leaves memory
  ASSERT_TRUE(store_->flush(ids_[90], kT0 - 1000).ok());  // far beyond the window: now first
  sync_->reload();
  EXPECT_FALSE(scheduler_.contains(ids_[1], 0));
  EXPECT_FALSE(scheduler_.contains(ids_[2], 1));
  EXPECT_EQ(scheduler_.due_of(ids_[90], 0), kT0 - 1000);
  EXPECT_EQ(sync_->size(), 20u);
  EXPECT_TRUE(scheduler_.contains(ids_[10], 1));  // the window moved on past the removed ones
}

TEST_F(DueWindowSyncTest, InFlightEntriesAreNotPutBackByARead) {
  sync_->reload();
  ASSERT_EQ(take(kT0), 2u);  // message 0, both recipients
  ASSERT_TRUE(store_->lease({{ids_[0], 0, kT0}, {ids_[0], 1, kT0}}, kT0, kT0 + 500).ok());
  sync_->reload();  // the leased entries are in the index at kT0 + 500
  EXPECT_FALSE(scheduler_.contains(ids_[0], 0));
  EXPECT_FALSE(scheduler_.contains(ids_[0], 1));
}

TEST_F(DueWindowSyncTest, DirectAddsBeyondTheWindowStopAtTheHardCap) {
  sync_->reload();
  sync_->add_direct(ids_[99], 0, "x@live.example", kT0 + 99'000);  // beyond the window, room left
  EXPECT_TRUE(scheduler_.contains(ids_[99], 0));
  for (std::uint32_t i = 0; i < 200; ++i)
    sync_->add_direct(QueueId{5000 + i}, 0, "z@live.example", kT0 + 500'000 + i);
  EXPECT_EQ(sync_->size(), sync_->window().hard_cap());  // the rest waits in the index
}

}  // namespace
}  // namespace ferry::outbound
