// EventOutboxTest: every state change appends its event in the same transaction (outbox), the
// event codec, sequence numbers across reopen and trim, sink cursors and the trim rule.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <memory>

#include "QueueTestSupport.hpp"
#include "queue/EventOps.hpp"

namespace ferry::queue {
namespace {

using test::sample_attempt;
using test::sample_message;

std::vector<DeliveryEvent> all_events(const QueueStore& s) {
  auto e = s.events_after(0, 100000);
  EXPECT_TRUE(e) << e.error().message;
  return e ? *e : std::vector<DeliveryEvent>{};
}

std::string kinds(const std::vector<DeliveryEvent>& events) {
  std::string out;
  for (const auto& e : events)
    out += std::string(to_string(e.kind)) + (e.recipient.empty() ? "" : ":" + e.recipient) + " ";
  return out;
}

TEST(queue_events, CodecRoundTripsAndRefusesGarbage) {
  DeliveryEvent e;
  e.seq = 7;
  e.time_ms = 1'700'000'000'123;
  e.kind = EventKind::Bounced;
  e.id = QueueId{0xABCDEF};
  e.message_id = "abc@example.org";
  e.sender = "s@example.org";
  e.recipient = "r@example.net";
  e.rcpt_index = 3;
  e.attempts = 2;
  e.attempt = sample_attempt(AttemptOutcome::Permanent, 5);
  const std::string bytes = codec::encode_event(e);
  auto d = codec::decode_event(7, bytes);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->seq, 7u);
  EXPECT_EQ(d->kind, EventKind::Bounced);
  EXPECT_EQ(d->id, e.id);
  EXPECT_EQ(d->message_id, e.message_id);
  EXPECT_EQ(d->recipient, e.recipient);
  EXPECT_EQ(d->rcpt_index, 3u);
  EXPECT_EQ(d->attempts, 2u);
  ASSERT_TRUE(d->attempt);
  EXPECT_EQ(test::describe(*d->attempt), test::describe(*e.attempt));
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(codec::decode_event(1, bytes.substr(0, n))) << n;
  EXPECT_FALSE(codec::decode_event(1, bytes + "x"));
  std::string bad_kind = bytes;
  bad_kind[9] = 42;  // version(1) + time(8) -> kind
  EXPECT_FALSE(codec::decode_event(1, bad_kind));
}

TEST(queue_events, TrimThroughKeepsUnacknowledgedAndRetained) {
  struct Row {
    std::vector<std::uint64_t> acked;
    std::uint64_t last, retain, want;
  };
  const Row rows[] = {
      {{}, 100, 10, 90},          // no sink: keep the newest 10
      {{}, 5, 10, 0},             // fewer than retain: keep all
      {{50}, 100, 10, 50},        // one sink behind
      {{95}, 100, 10, 90},        // sink ahead of the retention
      {{95, 20}, 100, 0, 20},     // the slowest sink decides
      {{0}, 100, 0, 0},           // a new sink has acknowledged nothing
      {{100, 100}, 100, 0, 100},  // everything acknowledged, nothing retained
  };
  for (const auto& r : rows)
    EXPECT_EQ(trim_through(r.acked, r.last, r.retain), r.want) << r.last << "/" << r.retain;
}

TEST(queue_events, EveryStateChangeAppendsItsEvent) {
  test::TempDir dir;
  auto s = test::open_store(dir.queue());
  const QueueId a = s->allocate_id(), b = s->allocate_id(), bounce = s->allocate_id();
  auto ma = sample_message(a, "m", 3, 1000);
  ma.envelope.message_id = "id-a@example.org";
  ASSERT_TRUE(s->enqueue(ma));
  ASSERT_TRUE(s->enqueue(sample_message(b, "m", 1, 1000)));
  ASSERT_TRUE(s->lease({{a, 0, 0}, {a, 1, 0}, {a, 2, 0}}, 1000, 5000));
  SettleRequest req;
  req.now_ms = 2000;
  RecipientResult suppressed{a, 2, sample_attempt(AttemptOutcome::Permanent, 2000), 0};
  suppressed.suppressed = true;
  req.results = {{a, 0, sample_attempt(AttemptOutcome::Delivered, 2000), 0},
                 {a, 1, sample_attempt(AttemptOutcome::Transient, 2000), 9000},
                 suppressed};
  auto bm = sample_message(bounce, "bounce", 1, 2000);
  bm.envelope.reverse_path = "";
  req.enqueue = {bm};
  req.mark_delay_warned = {a};
  ASSERT_TRUE(s->settle(req));
  ASSERT_TRUE(s->hold(b));
  ASSERT_TRUE(s->release(b, 3000));
  ASSERT_TRUE(s->hold(a));
  ASSERT_TRUE(s->remove(a));
  const auto ev = all_events(*s);
  EXPECT_EQ(kinds(ev),
            "received:rcpt0@example.net received:rcpt1@example.net received:rcpt2@example.net "
            "received:rcpt0@example.net delivered:rcpt0@example.net deferred:rcpt1@example.net "
            "suppressed:rcpt2@example.net delay_warning received:rcpt0@example.net held:rcpt0@example.net "
            "released:rcpt0@example.net held:rcpt1@example.net deleted:rcpt1@example.net ");
  for (std::size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i].seq, i + 1);
  EXPECT_EQ(ev[0].message_id, "id-a@example.org");
  EXPECT_EQ(ev[0].sender, "sender@example.org");
  ASSERT_TRUE(ev[4].attempt);
  EXPECT_EQ(ev[4].attempt->code, 250);
  EXPECT_EQ(ev[4].time_ms, 2000);
  EXPECT_EQ(ev[4].attempts, 1u);
  EXPECT_EQ(ev[8].sender, "");  // the bounce's received event
  EXPECT_EQ(ev[8].id, bounce);
}

// A duplicate settle of a final recipient changes nothing and so records nothing.
TEST(queue_events, NoEventWithoutAChange) {
  test::TempDir dir;
  auto s = test::open_store(dir.queue());
  const QueueId a = s->allocate_id();
  ASSERT_TRUE(s->enqueue(sample_message(a, "m", 2, 1000)));
  ASSERT_TRUE(s->lease({{a, 0, 0}}, 1000, 5000));
  SettleRequest req;
  req.results = {{a, 0, sample_attempt(AttemptOutcome::Delivered, 2000), 0}};
  ASSERT_TRUE(s->settle(req));
  ASSERT_TRUE(s->settle(req));
  ASSERT_TRUE(s->flush(std::nullopt, 3000));
  EXPECT_EQ(kinds(all_events(*s)),
            "received:rcpt0@example.net received:rcpt1@example.net delivered:rcpt0@example.net ");
}

TEST(queue_events, SequenceSurvivesReopenAndTrimAndCursorsGateTheTrim) {
  test::TempDir dir;
  std::vector<std::string> sinks = {"file /a", "webhook https://b/"};
  {
    auto s = test::open_store(dir.queue());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
    ASSERT_TRUE(s->ack_events("file /a", 4));
    ASSERT_TRUE(s->ack_events("file /a", 2));  // never moves back
    EXPECT_EQ(*s->event_cursor("file /a"), 4u);
    ASSERT_TRUE(s->ack_events("old sink", 5));
    std::size_t trimmed = 99;
    ASSERT_TRUE(s->write([&](WriteTxn& t) -> Result<void> {
      auto n = t.trim_events(sinks, 0, 1000);
      if (!n) return n.error();
      trimmed = *n;
      return {};
    }));
    EXPECT_EQ(trimmed, 0u);                       // the webhook acknowledged nothing yet
    EXPECT_EQ(*s->event_cursor("old sink"), 0u);  // a removed sink's cursor is gone
    ASSERT_TRUE(s->ack_events("webhook https://b/", 5));
    ASSERT_TRUE(s->write([&](WriteTxn& t) -> Result<void> {
      auto n = t.trim_events(sinks, 0, 1000);
      if (!n) return n.error();
      trimmed = *n;
      return {};
    }));
    EXPECT_EQ(trimmed, 4u);
    EXPECT_EQ(all_events(*s).size(), 1u);
    ASSERT_TRUE(s->ack_events("file /a", 5));
    ASSERT_TRUE(s->write([&](WriteTxn& t) -> Result<void> {
      auto n = t.trim_events(sinks, 0, 1000);
      if (!n) return n.error();
      return {};
    }));
    EXPECT_TRUE(all_events(*s).empty());
    EXPECT_EQ(*s->last_event_seq(), 5u);
  }
  auto s = test::open_store(dir.queue());
  EXPECT_EQ(*s->last_event_seq(), 5u);
  ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  const auto ev = all_events(*s);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].seq, 6u);  // never reused after the table was emptied
  EXPECT_NE(ev[0].event_id(), DeliveryEvent{}.event_id());
}

// The outbox is written in the settle's transaction: failing any LMDB operation of it (the
// event writes included) leaves neither the state change nor an event.
TEST(queue_events, FailedEventWriteUndoesTheWholeSettle) {
  for (int n = 1;; ++n) {
    ASSERT_LT(n, 500) << "sweep did not end";
    test::TempDir dir;
    auto s = test::open_store(dir.queue());
    const QueueId a = s->allocate_id(), bounce = s->allocate_id();
    ASSERT_TRUE(s->enqueue(sample_message(a, "m", 2, 1000)));
    ASSERT_TRUE(s->lease({{a, 0, 0}, {a, 1, 0}}, 1000, 5000));
    const std::string before = test::dump(*s);
    const std::size_t events_before = all_events(*s).size();
    SettleRequest req;
    req.now_ms = 2000;
    req.results = {{a, 0, sample_attempt(AttemptOutcome::Permanent, 2000), 0},
                   {a, 1, sample_attempt(AttemptOutcome::Delivered, 2000), 0}};
    req.enqueue = {sample_message(bounce, "bounce", 1, 2000)};
    auto count = std::make_shared<std::atomic<int>>(0);
    auto hit = std::make_shared<std::atomic<bool>>(false);
    s->set_fault_hook([n, count, hit](std::string_view) {
      if (++*count != n) return 0;
      *hit = true;
      return EIO;
    });
    const Result<void> r = s->settle(req);
    s->set_fault_hook(nullptr);
    if (!*hit) {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(all_events(*s).size(), events_before + 3);  // bounced, delivered, the bounce received
      break;
    }
    ASSERT_FALSE(r) << "n=" << n;
    EXPECT_EQ(test::dump(*s), before) << "n=" << n;
    EXPECT_EQ(all_events(*s).size(), events_before) << "n=" << n << ": an event without its change";
  }
}

// The same through the batcher's nested transactions: one failing event write inside a batch
// undoes that settle only.
TEST(queue_events, EventFailureInABatchUndoesOnlyItsRequest) {
  test::TempDir dir;
  auto s = test::open_store(dir.queue());
  const QueueId a = s->allocate_id(), b = s->allocate_id();
  ASSERT_TRUE(s->enqueue(sample_message(a, "m", 1, 1000)));
  ASSERT_TRUE(s->enqueue(sample_message(b, "m", 1, 1000)));
  const std::size_t before = all_events(*s).size();
  bool fail_next_append = true;
  s->set_fault_hook([&](std::string_view op) {
    // The outbox write is the settle's last put (MDB_APPEND): fail the first settle's one.
    if (op == "put" && fail_next_append) {
      static int puts = 0;
      if (++puts == 2) {
        fail_next_append = false;
        return EIO;
      }
    }
    return 0;
  });
  Result<void> first = make_error(ErrorKind::Io, "unset"), second = first;
  ASSERT_TRUE(s->write([&](WriteTxn& t) {
    SettleRequest ra, rb;
    ra.results = {{a, 0, sample_attempt(AttemptOutcome::Delivered, 2000), 0}};
    rb.results = {{b, 0, sample_attempt(AttemptOutcome::Delivered, 2000), 0}};
    first = t.settle(ra);
    second = t.settle(rb);
    return Result<void>();
  }));
  s->set_fault_hook(nullptr);
  EXPECT_FALSE(first);
  EXPECT_TRUE(second);
  EXPECT_EQ(s->load(a)->recipients[0].state, RecipientState::Pending);
  EXPECT_EQ(s->load(b).error().kind, ErrorKind::NotFound);  // delivered and gone
  const auto ev = all_events(*s);
  ASSERT_EQ(ev.size(), before + 1);
  EXPECT_EQ(ev.back().id, b);
  EXPECT_EQ(ev.back().kind, EventKind::Delivered);
}

// A queue out of space must still record delivery results: a commit that fails for lack of
// space turns shedding on, and then every append removes two older events, so the outbox
// shrinks instead of taking the pages a settle needs. Numbers keep growing.
TEST(queue_events, OutOfSpaceTheOutboxShrinksInsteadOfGrowing) {
  test::TempDir dir;
  auto s = test::open_store(dir.queue());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  ASSERT_EQ(all_events(*s).size(), 6u);
  EXPECT_FALSE(s->event_shedding());
  s->set_fault_hook([](std::string_view op) { return op == "txn_commit" ? ENOSPC : 0; });
  EXPECT_FALSE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  s->set_fault_hook(nullptr);
  EXPECT_TRUE(s->event_shedding()) << "a commit refused for space turns shedding on";
  ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  auto ev = all_events(*s);
  ASSERT_EQ(ev.size(), 4u) << kinds(ev);  // 6 - 2 + 1 - 2 + 1
  EXPECT_EQ(ev.front().seq, 5u);
  EXPECT_EQ(ev.back().seq, 8u);
  s->set_event_shedding(false);
  ASSERT_TRUE(s->enqueue(sample_message(s->allocate_id(), "m", 1, 1000)));
  ev = all_events(*s);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev.back().seq, 9u);
}

}  // namespace
}  // namespace ferry::queue
