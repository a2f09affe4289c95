// EventOps: see EventOps.hpp. The outbox is written by TxnOps in the transaction of each state
// change; the cursors and trims are written by the daemon's sinks (through the CommitBatcher).
#include "queue/EventOps.hpp"

#include <algorithm>

#include "queue/Codec.hpp"
#include "queue/Schema.hpp"

namespace ferry::queue {

namespace codec {

std::string encode_event(const DeliveryEvent& e) {
  Writer w;
  w.u8(kEventVersion);
  w.i64(e.time_ms);
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.u64(e.id.value);
  w.str(e.message_id);
  w.str(e.sender);
  w.str(e.recipient);
  w.u32(e.rcpt_index);
  w.u32(e.attempts);
  w.u8(e.attempt ? 1 : 0);
  if (e.attempt) put_attempt(w, *e.attempt);
  return w.take();
}

Result<DeliveryEvent> decode_event(std::uint64_t seq, std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kEventVersion) r.fail("unknown event version");
  DeliveryEvent e;
  e.seq = seq;
  e.time_ms = r.i64();
  const auto kind = r.u8();
  if (kind > kLastEventKind) r.fail("bad event kind");
  e.kind = static_cast<EventKind>(kind);
  e.id.value = r.u64();
  e.message_id = r.str();
  e.sender = r.str();
  e.recipient = r.str();
  e.rcpt_index = r.u32();
  e.attempts = r.u32();
  if (r.boolean()) e.attempt = get_attempt(r);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return make_error(ErrorKind::Corrupt, std::string("event: ") + r.error());
  return e;
}

}  // namespace codec

std::uint64_t trim_through(const std::vector<std::uint64_t>& acked, std::uint64_t last_seq,
                           std::uint64_t retain) {
  std::uint64_t bound = last_seq;
  for (std::uint64_t a : acked) bound = std::min(bound, a);
  const std::uint64_t keep_from = last_seq > retain ? last_seq - retain : 0;  // deletable: <= keep_from
  return std::min(bound, keep_from);
}

namespace ops {

namespace {

// The highest sequence a trim ever deleted: with every event trimmed, the table alone would
// let the numbering start again at 1 and a receiver's dedupe would drop new events.
constexpr std::string_view kTrimmedKey = "events_trimmed";

std::string seq_key(std::uint64_t seq) {
  std::string k;
  schema::append_be64(k, seq);
  return k;
}

Error no_outbox() { return make_error(ErrorKind::NotFound, "the queue has no events outbox yet"); }

Result<std::uint64_t> trimmed_through(Ctx& c) {
  auto v = c.txn.get(c.db.meta, kTrimmedKey);
  if (!v) return v.error();
  if (!*v) return std::uint64_t{0};
  if ((*v)->size() != 8) return make_error(ErrorKind::Corrupt, "meta events_trimmed: bad length");
  return schema::read_be64(**v, 0);
}

}  // namespace

Result<std::uint64_t> last_event_seq(Ctx& c) {
  if (!c.db.has_events) return std::uint64_t{0};
  auto floor = trimmed_through(c);
  if (!floor) return floor.error();
  auto cur = lmdb::Cursor::open(c.txn, c.db.events);
  if (!cur) return cur.error();
  auto last = cur->last();
  if (!last) return last.error();
  if (!*last) return *floor;
  if ((*last)->key.size() != 8) return make_error(ErrorKind::Corrupt, "events: bad key");
  return std::max(*floor, schema::read_be64((*last)->key, 0));
}

Result<std::uint64_t> append_event(Ctx& c, DeliveryEvent e) {
  if (!c.db.has_events) return no_outbox();
  auto last = last_event_seq(c);
  if (!last) return last.error();
  e.seq = *last + 1;
  // MDB_APPEND: the key is past every other one; LMDB checks it and fills pages densely.
  auto put = c.txn.put(c.db.events, seq_key(e.seq), codec::encode_event(e), MDB_APPEND);
  if (!put) return put.error();
  return e.seq;
}

Result<std::vector<DeliveryEvent>> events_after(Ctx& c, std::uint64_t after, std::size_t limit) {
  std::vector<DeliveryEvent> out;
  if (!c.db.has_events || limit == 0) return out;
  auto cur = lmdb::Cursor::open(c.txn, c.db.events);
  if (!cur) return cur.error();
  for (auto e = cur->seek(seq_key(after + 1)); out.size() < limit; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) break;
    if ((*e)->key.size() != 8) return make_error(ErrorKind::Corrupt, "events: bad key");
    const std::uint64_t seq = schema::read_be64((*e)->key, 0);
    auto ev = codec::decode_event(seq, (*e)->value);
    // An undecodable event (a damaged page) cannot be rendered: it is skipped so the sinks go on
    // rather than retry it forever; receivers see the gap in `seq`.
    if (!ev) continue;
    out.push_back(std::move(*ev));
  }
  return out;
}

Result<std::uint64_t> event_cursor(Ctx& c, std::string_view sink) {
  if (!c.db.has_events) return std::uint64_t{0};
  auto v = c.txn.get(c.db.event_cursors, sink);
  if (!v) return v.error();
  if (!*v) return std::uint64_t{0};
  if ((*v)->size() != 8) return make_error(ErrorKind::Corrupt, "event cursor: bad length");
  return schema::read_be64(**v, 0);
}

Result<void> ack_events(Ctx& c, std::string_view sink, std::uint64_t seq) {
  if (!c.db.has_events) return no_outbox();
  if (sink.empty() || sink.size() > 400) return make_error(ErrorKind::Invalid, "event sink name length");
  auto before = event_cursor(c, sink);
  if (!before) return before.error();
  if (seq <= *before) return {};  // a cursor never moves back (a late duplicate acknowledgement)
  return c.txn.put(c.db.event_cursors, sink, seq_key(seq));
}

// Deletes at most `max_delete` of the oldest events with a sequence number up to `through`,
// and remembers the highest deleted one (so numbers are never reused).
Result<std::size_t> delete_events_through(Ctx& c, std::uint64_t through, std::size_t max_delete) {
  std::vector<std::string> doomed;
  {
    auto cur = lmdb::Cursor::open(c.txn, c.db.events);
    if (!cur) return cur.error();
    for (auto e = cur->first(); doomed.size() < max_delete; e = cur->next()) {
      if (!e) return e.error();
      if (!*e || (*e)->key.size() != 8 || schema::read_be64((*e)->key, 0) > through) break;
      doomed.emplace_back((*e)->key);
    }
  }
  for (const auto& k : doomed)
    if (auto d = c.txn.del(c.db.events, k); !d) return d.error();
  if (!doomed.empty()) {
    auto floor = trimmed_through(c);
    if (!floor) return floor.error();
    const std::uint64_t top = schema::read_be64(doomed.back(), 0);
    if (top > *floor)
      if (auto p = c.txn.put(c.db.meta, kTrimmedKey, seq_key(top)); !p) return p.error();
  }
  return doomed.size();
}

Result<std::size_t> trim_events(Ctx& c, const std::vector<std::string>& sinks, std::uint64_t retain,
                                std::size_t max_delete) {
  if (!c.db.has_events) return no_outbox();
  std::vector<std::string> stale;
  std::vector<std::uint64_t> acked;
  {
    auto cur = lmdb::Cursor::open(c.txn, c.db.event_cursors);
    if (!cur) return cur.error();
    for (auto e = cur->first();; e = cur->next()) {
      if (!e) return e.error();
      if (!*e) break;
      if (std::find(sinks.begin(), sinks.end(), (*e)->key) == sinks.end()) stale.emplace_back((*e)->key);
    }
  }
  for (const auto& k : stale)
    if (auto d = c.txn.del(c.db.event_cursors, k); !d) return d.error();
  for (const auto& s : sinks) {
    auto a = event_cursor(c, s);
    if (!a) return a.error();
    acked.push_back(*a);
  }
  auto last = last_event_seq(c);
  if (!last) return last.error();
  return delete_events_through(c, trim_through(acked, *last, retain), max_delete);
}

Result<std::size_t> shed_events(Ctx& c, std::uint64_t keep, std::size_t max_delete) {
  if (!c.db.has_events) return no_outbox();
  auto last = last_event_seq(c);
  if (!last) return last.error();
  return delete_events_through(c, trim_through({}, *last, keep), max_delete);
}

}  // namespace ops
}  // namespace ferry::queue
