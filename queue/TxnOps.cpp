// TxnOps: see TxnOps.hpp; the state machine it implements is described in queue/README.md.
#include "queue/TxnOps.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>

#include "queue/DueIndexCheck.hpp"
#include "queue/EventOps.hpp"
#include "queue/Schema.hpp"
#include "queue/SuppressionOps.hpp"

namespace ferry::queue::ops {

namespace {

using schema::due_key;
using schema::message_key;
using schema::recipient_key;

#define FERRY_TRY(expr)                     \
  do {                                      \
    auto ferry_r_ = (expr);                 \
    if (!ferry_r_) return ferry_r_.error(); \
  } while (0)

Error not_found(QueueId id) { return make_error(ErrorKind::NotFound, "no message " + id.str()); }

bool is_live(RecipientState s) { return s == RecipientState::Pending || s == RecipientState::Held; }

// Every key of `dbi` that starts with `prefix`, copied (deleting while a cursor walks is avoided).
Result<std::vector<std::string>> keys_with_prefix(Ctx& c, MDB_dbi dbi, std::string_view prefix) {
  std::vector<std::string> keys;
  auto cur = lmdb::Cursor::open(c.txn, dbi);
  if (!cur) return cur.error();
  auto e = cur->seek(prefix);
  for (;;) {
    if (!e) return e.error();
    if (!*e || !(*e)->key.starts_with(prefix)) break;
    keys.emplace_back((*e)->key);
    e = cur->next();
  }
  return keys;
}

// The one place a recipient record changes: the due index follows the state, so "Pending <=>
// exactly one due entry at next_attempt_ms" holds after every write.
Result<void> update_recipient(Ctx& c, QueueId id, const std::optional<RecipientRecord>& before,
                              const RecipientRecord& after) {
  bool was_due = before && before->state == RecipientState::Pending;
  bool is_due = after.state == RecipientState::Pending;
  bool same_key = was_due && is_due &&
                  schema::due_ordinal(before->next_attempt_ms) == schema::due_ordinal(after.next_attempt_ms);
  if (was_due && !same_key) FERRY_TRY(c.txn.del(c.db.due, due_key(before->next_attempt_ms, id, after.index)));
  FERRY_TRY(c.txn.put(c.db.recipients, recipient_key(id, after.index), codec::encode_recipient(after)));
  if (is_due && !same_key)
    FERRY_TRY(c.txn.put(c.db.due, due_key(after.next_attempt_ms, id, after.index), ""));
  return {};
}

// Deletes the message, its body chunks, its recipient records and their due entries.
Result<void> delete_message(Ctx& c, QueueId id) {
  FERRY_TRY(c.txn.del(c.db.messages, message_key(id)));
  std::string prefix = message_key(id);
  auto bodies = keys_with_prefix(c, c.db.bodies, prefix);
  if (!bodies) return bodies.error();
  for (const auto& k : *bodies) FERRY_TRY(c.txn.del(c.db.bodies, k));
  auto rcpts = keys_with_prefix(c, c.db.recipients, prefix);
  if (!rcpts) return rcpts.error();
  for (const auto& k : *rcpts) {
    auto v = c.txn.get(c.db.recipients, k);
    if (!v) return v.error();
    if (*v) {
      // An undecodable record's due entry (if any) cannot be named; lease_due and recover drop
      // due entries that point at nothing.
      auto rec = codec::decode_recipient(**v);
      if (rec && rec->state == RecipientState::Pending)
        FERRY_TRY(c.txn.del(c.db.due, due_key(rec->next_attempt_ms, id, schema::parse_sub_key(k)->n)));
    }
    FERRY_TRY(c.txn.del(c.db.recipients, k));
  }
  return {};
}

// Moves one undecodable record to `quarantine` (raw bytes + reason) and out of its table.
Result<void> quarantine(Ctx& c, const char* table, MDB_dbi dbi, const std::string& key,
                        const std::string& raw, const std::string& reason, TimeMs now) {
  std::string qkey = schema::quarantine_key(table, key);
  std::string value = codec::encode_quarantine({now, reason, raw});
  // Never overwrite an earlier quarantined record: suffix the key until it is free.
  for (unsigned n = 0;; ++n) {
    std::string k = n == 0 ? qkey : qkey + "#" + std::to_string(n);
    auto put = c.txn.put(c.db.quarantine, k, value, MDB_NOOVERWRITE);
    if (put) break;
    if (put.error().kind != ErrorKind::Exists) return put.error();
  }
  FERRY_TRY(c.txn.del(dbi, key));
  return {};
}

// The queue is an I/O room: an operator's hold or delete is stamped with the wall clock here.
TimeMs wall_now_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
}

// Every state change appends its event in the change's own transaction (EventOps.hpp): a change
// that commits has its event, an event never outlives a change that was rolled back.
Result<void> record_event(Ctx& c, EventKind kind, QueueId id, const Envelope& env, const RecipientRecord* r,
                          TimeMs when, const Attempt* attempt = nullptr) {
  DeliveryEvent e;
  e.time_ms = when;
  e.kind = kind;
  e.id = id;
  e.message_id = env.message_id;
  e.sender = env.reverse_path;
  if (r) {
    e.rcpt_index = r->index;
    e.attempts = r->attempts;
    if (r->index < env.recipients.size()) e.recipient = env.recipients[r->index].address;
  }
  if (attempt) e.attempt = *attempt;
  // Two out for one in: the outbox shrinks while the queue is out of space.
  if (c.db.shed_events.load(std::memory_order_relaxed))
    if (auto shed = shed_events(c, 0, 2); !shed) return shed.error();
  auto a = append_event(c, std::move(e));
  if (!a) return a.error();
  return {};
}

EventKind result_event(const RecipientResult& r) {
  switch (r.attempt.outcome) {
    case AttemptOutcome::Delivered:
      return EventKind::Delivered;
    case AttemptOutcome::Transient:
      return EventKind::Deferred;
    case AttemptOutcome::Expired:
      return EventKind::Expired;
    default:
      return r.suppressed ? EventKind::Suppressed : EventKind::Bounced;
  }
}

Error with_context(Error e, const std::string& what) {
  e.message = what + ": " + e.message;
  return e;
}

}  // namespace

Result<std::optional<codec::StoredMessage>> get_message(Ctx& c, QueueId id) {
  auto v = c.txn.get(c.db.messages, message_key(id));
  if (!v) return v.error();
  if (!*v) return std::optional<codec::StoredMessage>();
  auto m = codec::decode_message(**v);
  if (!m) return with_context(m.error(), "message " + id.str());
  return std::optional<codec::StoredMessage>(std::move(*m));
}

Result<std::optional<RecipientRecord>> get_recipient(Ctx& c, QueueId id, std::uint32_t index) {
  auto v = c.txn.get(c.db.recipients, recipient_key(id, index));
  if (!v) return v.error();
  if (!*v) return std::optional<RecipientRecord>();
  auto r = codec::decode_recipient(**v);
  if (!r) return with_context(r.error(), "recipient " + id.str() + "#" + std::to_string(index));
  r->index = index;  // the key is the truth
  return std::optional<RecipientRecord>(std::move(*r));
}

Result<std::vector<RecipientRecord>> get_recipients(Ctx& c, QueueId id) {
  std::vector<RecipientRecord> out;
  std::string prefix = message_key(id);
  auto cur = lmdb::Cursor::open(c.txn, c.db.recipients);
  if (!cur) return cur.error();
  auto e = cur->seek(prefix);
  for (;;) {
    if (!e) return e.error();
    if (!*e || !(*e)->key.starts_with(prefix)) break;
    auto sub = schema::parse_sub_key((*e)->key);
    auto r = codec::decode_recipient((*e)->value);
    if (!sub) return make_error(ErrorKind::Corrupt, "recipient key of " + id.str() + ": bad length");
    if (!r) return with_context(r.error(), "recipient " + id.str() + "#" + std::to_string(sub->n));
    r->index = sub->n;
    out.push_back(std::move(*r));
    e = cur->next();
  }
  return out;
}

Result<MessageRecord> load(Ctx& c, QueueId id) {
  auto m = get_message(c, id);
  if (!m) return m.error();
  if (!*m) return not_found(id);
  auto rcpts = get_recipients(c, id);
  if (!rcpts) return rcpts.error();
  MessageRecord rec;
  rec.id = id;
  rec.envelope = std::move((*m)->envelope);
  rec.delay_warning_sent_ms = (*m)->delay_warning_sent_ms;
  rec.recipients = std::move(*rcpts);
  return rec;
}

Result<std::string> read_body(Ctx& c, QueueId id) {
  auto m = get_message(c, id);
  if (!m) return m.error();
  if (!*m) return not_found(id);
  std::string body;
  body.reserve((*m)->body_size);
  for (std::uint32_t i = 0; i < (*m)->chunks; ++i) {
    auto v = c.txn.get(c.db.bodies, schema::body_key(id, i));
    if (!v) return v.error();
    if (!*v)
      return make_error(ErrorKind::Corrupt,
                        "message " + id.str() + ": body chunk " + std::to_string(i) + " missing");
    body.append(**v);
  }
  if (body.size() != (*m)->body_size)
    return make_error(ErrorKind::Corrupt, "message " + id.str() + ": body size mismatch");
  return body;
}

Result<void> for_each(Ctx& c, const std::function<bool(const MessageRecord&)>& visit) {
  auto cur = lmdb::Cursor::open(c.txn, c.db.messages);
  if (!cur) return cur.error();
  // A corrupt record must not hide every other message from an operator: visit the good ones
  // and report the bad ones (as Corrupt) at the end; recover() moves them to quarantine.
  std::size_t corrupt = 0;
  std::string first_error;
  for (auto e = cur->first();; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) break;
    auto id = schema::parse_message_key((*e)->key);
    Result<MessageRecord> rec =
        id ? load(c, *id) : Result<MessageRecord>(make_error(ErrorKind::Corrupt, "bad message key"));
    if (!rec) {
      if (rec.error().kind != ErrorKind::Corrupt) return rec.error();
      if (corrupt++ == 0) first_error = rec.error().message;
      continue;
    }
    if (!visit(*rec)) break;
  }
  if (corrupt)
    return make_error(ErrorKind::Corrupt,
                      std::to_string(corrupt) + " undecodable message(s), first: " + first_error);
  return {};
}

Result<QueueCounts> counts(Ctx& c) {
  QueueCounts out;
  auto messages = c.txn.stat(c.db.messages);
  if (!messages) return messages.error();
  auto due = c.txn.stat(c.db.due);
  if (!due) return due.error();
  out.messages = messages->ms_entries;
  out.pending_recipients = due->ms_entries;
  // The first message that decodes is the oldest: a few corrupt ones (quarantined at the next
  // start) are stepped over, never the whole table.
  auto cur = lmdb::Cursor::open(c.txn, c.db.messages);
  if (!cur) return cur.error();
  int tries = 0;
  for (auto e = cur->first(); e && *e && tries < 16; e = cur->next(), ++tries) {
    auto id = schema::parse_message_key((*e)->key);
    if (!id) continue;
    if (auto rec = load(c, *id)) {
      out.oldest_arrival_ms = rec->envelope.arrival_ms;
      break;
    }
  }
  return out;
}

Result<std::vector<DueRecipient>> due_range(Ctx& c, const std::optional<DueRecipient>& after,
                                            std::size_t limit) {
  std::vector<DueRecipient> out;
  auto cur = lmdb::Cursor::open(c.txn, c.db.due);
  if (!cur) return cur.error();
  const std::string from = after ? due_key(after->due_ms, after->id, after->index) : std::string();
  for (auto e = after ? cur->seek(from) : cur->first(); out.size() < limit; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) break;
    if (after && (*e)->key == from) continue;  // strictly after
    auto k = schema::parse_due_key((*e)->key);
    if (!k) return make_error(ErrorKind::Corrupt, "due index: bad key " + schema::to_hex((*e)->key));
    out.push_back(DueRecipient{k->id, k->index, static_cast<TimeMs>(k->due)});
  }
  return out;
}

Result<std::vector<DueRecipient>> due_index(Ctx& c) {
  return due_range(c, std::nullopt, std::numeric_limits<std::size_t>::max());
}

Result<std::vector<QuarantinedRecord>> quarantined(Ctx& c) {
  std::vector<QuarantinedRecord> out;
  auto cur = lmdb::Cursor::open(c.txn, c.db.quarantine);
  if (!cur) return cur.error();
  for (auto e = cur->first();; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) break;
    QuarantinedRecord q;
    auto k = schema::parse_quarantine_key((*e)->key);
    q.table = k ? k->table : "?";
    q.key_hex = schema::to_hex(k ? std::string_view(k->key) : (*e)->key);
    auto v = codec::decode_quarantine((*e)->value);
    q.reason = v ? v->reason : "undecodable quarantine entry";
    q.size = v ? v->raw.size() : (*e)->value.size();
    out.push_back(std::move(q));
  }
  return out;
}

Result<void> enqueue(Ctx& c, const NewMessage& m) {
  if (m.id.value == 0) return make_error(ErrorKind::Invalid, "enqueue: queue id 0");
  if (m.envelope.recipients.empty())
    return make_error(ErrorKind::Invalid, "enqueue " + m.id.str() + ": no recipients");
  std::size_t chunks = (m.body.size() + schema::kBodyChunk - 1) / schema::kBodyChunk;
  if (chunks > UINT32_MAX || m.envelope.recipients.size() > UINT32_MAX)
    return make_error(ErrorKind::Invalid, "enqueue " + m.id.str() + ": too large");
  codec::StoredMessage stored{m.id, m.envelope, 0, m.body.size(), static_cast<std::uint32_t>(chunks)};
  auto put = c.txn.put(c.db.messages, message_key(m.id), codec::encode_message(stored), MDB_NOOVERWRITE);
  if (!put) return with_context(put.error(), "enqueue " + m.id.str());
  for (std::size_t i = 0; i < chunks; ++i) {
    std::string_view chunk = std::string_view(m.body).substr(i * schema::kBodyChunk, schema::kBodyChunk);
    FERRY_TRY(c.txn.put(c.db.bodies, schema::body_key(m.id, static_cast<std::uint32_t>(i)), chunk));
  }
  for (std::uint32_t i = 0; i < m.envelope.recipients.size(); ++i) {
    RecipientRecord r;
    r.index = i;
    r.state = RecipientState::Pending;
    r.next_attempt_ms = m.first_due_ms;
    FERRY_TRY(update_recipient(c, m.id, std::nullopt, r));
    const TimeMs when = m.envelope.arrival_ms ? m.envelope.arrival_ms : wall_now_ms();
    FERRY_TRY(record_event(c, EventKind::Received, m.id, m.envelope, &r, when));
  }
  return {};
}

Result<std::vector<DueRecipient>> lease(Ctx& c, const std::vector<DueRecipient>& list, TimeMs now,
                                        TimeMs retry_at, bool strict) {
  std::vector<DueRecipient> leased;
  for (const auto& d : list) {
    auto rec = get_recipient(c, d.id, d.index);
    if (!rec) return rec.error();
    std::string who = d.id.str() + "#" + std::to_string(d.index);
    if (!*rec) {
      if (strict) return make_error(ErrorKind::NotFound, "lease: no recipient " + who);
      continue;
    }
    // Only a Pending recipient that is not already in flight may start an attempt: anything
    // else (held, final, or leased twice) would deliver twice or behind the operator's back.
    if ((*rec)->state != RecipientState::Pending || (*rec)->leased) {
      if (strict)
        return make_error(ErrorKind::NotFound, "lease: recipient " + who + " is not leasable (" +
                                                   to_string((*rec)->state) +
                                                   ((*rec)->leased ? ", leased)" : ")"));
      continue;
    }
    RecipientRecord after = **rec;
    after.attempts += 1;
    after.leased = true;
    if (after.first_attempt_ms == 0) after.first_attempt_ms = now;
    after.next_attempt_ms = retry_at;
    FERRY_TRY(update_recipient(c, d.id, *rec, after));
    leased.push_back(DueRecipient{d.id, d.index, (*rec)->next_attempt_ms});
  }
  return leased;
}

Result<std::vector<DueRecipient>> lease_due(Ctx& c, TimeMs now, std::size_t limit, TimeMs retry_at) {
  std::vector<DueRecipient> candidates;
  std::vector<std::string> stale;                            // due entries that point at nothing leasable
  std::vector<std::pair<std::string, std::string>> corrupt;  // recipient key, raw bytes
  {
    auto cur = lmdb::Cursor::open(c.txn, c.db.due);
    if (!cur) return cur.error();
    for (auto e = cur->first(); candidates.size() < limit; e = cur->next()) {
      if (!e) return e.error();
      if (!*e) break;
      auto k = schema::parse_due_key((*e)->key);
      if (!k) {
        stale.emplace_back((*e)->key);
        continue;
      }
      if (static_cast<std::int64_t>(k->due) > now) break;
      auto raw = c.txn.get(c.db.recipients, recipient_key(k->id, k->index));
      if (!raw) return raw.error();
      if (!*raw) {
        stale.emplace_back((*e)->key);
        continue;
      }
      auto rec = codec::decode_recipient(**raw);
      if (!rec) {
        // The daemon must not stall on one bad record: move it aside and keep going.
        corrupt.emplace_back(recipient_key(k->id, k->index), std::string(**raw));
        stale.emplace_back((*e)->key);
        continue;
      }
      if (rec->state != RecipientState::Pending || schema::due_ordinal(rec->next_attempt_ms) != k->due) {
        stale.emplace_back((*e)->key);
        continue;
      }
      if (rec->leased) continue;  // in flight past its retry time: the attempt still owns it
      candidates.push_back(DueRecipient{k->id, k->index, static_cast<TimeMs>(k->due)});
    }
  }
  for (const auto& k : stale) FERRY_TRY(c.txn.del(c.db.due, k));
  for (const auto& [k, raw] : corrupt)
    FERRY_TRY(quarantine(c, schema::kRecipients, c.db.recipients, k, raw, "undecodable recipient (lease_due)",
                         now));
  return lease(c, candidates, now, retry_at, /*strict=*/true);
}

Result<void> settle(Ctx& c, const SettleRequest& request) {
  std::set<std::uint64_t> touched;
  for (const auto& r : request.results) {
    auto msg = get_message(c, r.id);
    if (!msg) return msg.error();
    // The message is gone: an operator deleted it while the attempt was in flight. The result
    // has nothing left to update, and failing would also drop the other results and bounces.
    if (!*msg) continue;
    auto rec = get_recipient(c, r.id, r.index);
    if (!rec) return rec.error();
    if (!*rec)
      return make_error(ErrorKind::Invalid,
                        "settle: message " + r.id.str() + " has no recipient " + std::to_string(r.index));
    RecipientRecord after = **rec;
    after.leased = false;
    after.interrupted = 0;  // the attempt finished: the next crash is a first interruption again
    after.last = r.attempt;
    after.history.push_back(r.attempt);
    while (after.history.size() > kMaxHistory) after.history.erase(after.history.begin());
    // A final state is never reopened (a duplicate settle cannot un-deliver); a Held recipient
    // stays held on a transient result, but a delivery or a failure is a fact and is recorded.
    const bool changes = is_live(after.state);
    if (changes) {
      switch (r.attempt.outcome) {
        case AttemptOutcome::Delivered:
          after.state = RecipientState::Delivered;
          break;
        case AttemptOutcome::Transient:
          after.next_attempt_ms = r.next_attempt_ms;
          break;
        case AttemptOutcome::Permanent:
        case AttemptOutcome::Expired:
          after.state = RecipientState::Failed;
          break;
        case AttemptOutcome::Started:
          return make_error(ErrorKind::Invalid, "settle: outcome 'started' for " + r.id.str());
      }
    }
    FERRY_TRY(update_recipient(c, r.id, *rec, after));
    touched.insert(r.id.value);
    const TimeMs when = request.now_ms ? request.now_ms : r.attempt.time_ms;
    if (changes)
      FERRY_TRY(record_event(c, result_event(r), r.id, (*msg)->envelope, &after, when, &r.attempt));
  }
  for (QueueId id : request.mark_delay_warned) {
    auto msg = get_message(c, id);
    if (!msg) return msg.error();
    if (!*msg) continue;
    (*msg)->delay_warning_sent_ms = request.now_ms;
    FERRY_TRY(c.txn.put(c.db.messages, message_key(id), codec::encode_message(**msg)));
    FERRY_TRY(record_event(c, EventKind::DelayWarning, id, (*msg)->envelope, nullptr, request.now_ms));
  }
  // The bounces are written in this same transaction as the failures: both or neither.
  for (const auto& m : request.enqueue) FERRY_TRY(enqueue(c, m));
  FERRY_TRY(settle_suppressions(c, request.suppress));
  for (std::uint64_t v : touched) {
    auto rcpts = get_recipients(c, QueueId{v});
    if (!rcpts) return rcpts.error();
    bool live = false;
    for (const auto& r : *rcpts) live = live || is_live(r.state);
    if (!live) FERRY_TRY(delete_message(c, QueueId{v}));
  }
  return {};
}

namespace {
// Applies `change` to every recipient of `id`; NotFound if the message does not exist. Each
// recipient it changes gets `event` (none for a flush, which changes no state).
Result<void> change_all(Ctx& c, QueueId id, const std::function<bool(RecipientRecord&)>& change,
                        std::optional<EventKind> event = std::nullopt, TimeMs when = 0) {
  auto msg = get_message(c, id);
  if (!msg) return msg.error();
  if (!*msg) return not_found(id);
  auto rcpts = get_recipients(c, id);
  if (!rcpts) return rcpts.error();
  for (const auto& r : *rcpts) {
    RecipientRecord after = r;
    if (!change(after)) continue;
    FERRY_TRY(update_recipient(c, id, r, after));
    if (event) FERRY_TRY(record_event(c, *event, id, (*msg)->envelope, &after, when));
  }
  return {};
}
}  // namespace

Result<void> hold(Ctx& c, QueueId id) {
  return change_all(
      c, id,
      [](RecipientRecord& r) {
        if (r.state != RecipientState::Pending) return false;
        r.state = RecipientState::Held;
        return true;
      },
      EventKind::Held, wall_now_ms());
}

Result<void> release(Ctx& c, QueueId id, TimeMs now) {
  return change_all(
      c, id,
      [now](RecipientRecord& r) {
        if (r.state != RecipientState::Held) return false;
        r.state = RecipientState::Pending;
        r.next_attempt_ms = now;
        return true;
      },
      EventKind::Released, now);
}

// Each recipient still live gets its `deleted` event; an undecodable message record is deleted
// without events (there is no envelope to name them by).
Result<void> remove(Ctx& c, QueueId id) {
  auto raw = c.txn.get(c.db.messages, message_key(id));
  if (!raw) return raw.error();
  if (!*raw) return not_found(id);
  auto msg = codec::decode_message(**raw);
  if (msg) {
    auto rcpts = get_recipients(c, id);
    const TimeMs now = wall_now_ms();
    if (rcpts)
      for (const auto& r : *rcpts)
        if (is_live(r.state)) FERRY_TRY(record_event(c, EventKind::Deleted, id, msg->envelope, &r, now));
  }
  return delete_message(c, id);
}

namespace {
// A leased recipient's attempt is in flight; flushing it would only be skipped by lease_due.
bool flush_one(RecipientRecord& r, TimeMs now) {
  if (r.state != RecipientState::Pending || r.leased || r.next_attempt_ms <= now) return false;
  r.next_attempt_ms = now;
  return true;
}
}  // namespace

Result<void> flush(Ctx& c, std::optional<QueueId> id, TimeMs now) {
  if (id) return change_all(c, *id, [now](RecipientRecord& r) { return flush_one(r, now); });
  std::vector<std::pair<QueueId, RecipientRecord>> changes;
  {
    auto cur = lmdb::Cursor::open(c.txn, c.db.recipients);
    if (!cur) return cur.error();
    for (auto e = cur->first();; e = cur->next()) {
      if (!e) return e.error();
      if (!*e) break;
      auto sub = schema::parse_sub_key((*e)->key);
      auto r = codec::decode_recipient((*e)->value);
      if (!sub || !r) continue;  // undecodable: left for recover() to quarantine
      r->index = sub->n;
      changes.emplace_back(sub->id, std::move(*r));
    }
  }
  for (auto& [qid, r] : changes) {
    RecipientRecord after = r;
    if (flush_one(after, now)) FERRY_TRY(update_recipient(c, qid, r, after));
  }
  return {};
}

namespace {
// A lease outlived its process: the attempt may or may not have happened. A first interruption
// is most likely the crash of an unrelated moment (a kill, a power cut, an OOM), so the
// recipient is due again soon after the restart, as Postfix retries such mail at once. A second
// one in a row may be this very message crashing the daemon: it keeps the retry time of its
// lease (the normal backoff), never a hot loop, and is reported as a suspect.
RecipientRecord unleased(const RecipientRecord& r, TimeMs now, const RecoveryOptions& options) {
  RecipientRecord after = r;
  after.leased = false;
  after.interrupted = r.interrupted + 1;
  if (after.interrupted == 1 && options.after_crash_ms >= 0)
    after.next_attempt_ms = std::min(r.next_attempt_ms, now + options.after_crash_ms);
  return after;
}
// What one pass over the tables found. Memory stays small with a big queue: the live message
// ids (8 bytes each, sorted, as the walk visits them in key order) and the due index's entries
// (24 bytes each, DueIndexCheck, matched against the recipients in one merge); beyond that only
// what must change (records to quarantine, leases to end, due entries to add or drop), which a
// healthy queue keeps small.
struct RecoveryScan {
  struct Bad {
    const char* table;
    MDB_dbi dbi;
    std::string key, raw, reason;
  };
  std::vector<Bad> bad;
  std::vector<std::uint64_t> live;  // ascending
  std::vector<std::pair<QueueId, RecipientRecord>> unlease;
  DueIndexCheck due;
  std::vector<std::string> drop_due;     // due keys no Pending recipient backs
  std::vector<std::string> missing_due;  // due keys a Pending recipient calls for, not indexed
  bool is_live(QueueId id) const { return std::binary_search(live.begin(), live.end(), id.value); }
};

using RowFn = std::function<void(std::string_view, std::string_view)>;

Result<void> walk(Ctx& c, MDB_dbi dbi, const RowFn& f) {
  auto cur = lmdb::Cursor::open(c.txn, dbi);
  if (!cur) return cur.error();
  for (auto e = cur->first();; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) return {};
    f((*e)->key, (*e)->value);
  }
}

Result<void> scan_messages(Ctx& c, RecoveryScan& s) {
  auto st = c.txn.stat(c.db.messages);
  if (!st) return st.error();
  s.live.reserve(st->ms_entries);
  return walk(c, c.db.messages, [&](std::string_view k, std::string_view v) {
    auto id = schema::parse_message_key(k);
    auto m = codec::decode_message(v);
    if (!id || !m) {
      s.bad.push_back({schema::kMessages, c.db.messages, std::string(k), std::string(v),
                       !id ? "bad message key" : m.error().message});
      return;
    }
    s.live.push_back(id->value);
  });
}

// The due index is derived data: every entry is read (unparseable keys are dropped at once) and
// matched against the recipients in scan_recipients().
Result<void> scan_due(Ctx& c, RecoveryScan& s) {
  auto st = c.txn.stat(c.db.due);
  if (!st) return st.error();
  s.due.reserve(st->ms_entries);
  FERRY_TRY(walk(c, c.db.due, [&](std::string_view k, std::string_view) {
    if (auto key = schema::parse_due_key(k))
      s.due.add_indexed({key->due, key->id, key->index});
    else
      s.drop_due.emplace_back(k);
  }));
  s.due.sort();
  return {};
}

Result<void> scan_recipients(Ctx& c, RecoveryScan& s, RecoveryReport& report) {
  return walk(c, c.db.recipients, [&](std::string_view k, std::string_view v) {
    auto sub = schema::parse_sub_key(k);
    auto r = codec::decode_recipient(v);
    std::string reason;
    if (!sub)
      reason = "bad recipient key";
    else if (!r)
      reason = r.error().message;
    else if (!s.is_live(sub->id))
      reason = "orphan recipient: message record missing";
    if (!reason.empty()) {
      s.bad.push_back({schema::kRecipients, c.db.recipients, std::string(k), std::string(v), reason});
      if (sub) s.due.visit(sub->id, sub->n, std::nullopt);  // its due entries go
      return;
    }
    r->index = sub->n;
    std::optional<std::uint64_t> pending_due;
    if (r->state == RecipientState::Pending) {
      ++report.pending_recipients;
      pending_due = schema::due_ordinal(r->next_attempt_ms);
    }
    if (s.due.visit(sub->id, sub->n, pending_due))
      s.missing_due.push_back(due_key(r->next_attempt_ms, sub->id, sub->n));
    if (r->leased) s.unlease.emplace_back(sub->id, std::move(*r));
  });
}

Result<void> scan_bodies(Ctx& c, RecoveryScan& s) {
  return walk(c, c.db.bodies, [&](std::string_view k, std::string_view v) {
    auto sub = schema::parse_sub_key(k);
    if (!sub || !s.is_live(sub->id))
      s.bad.push_back({schema::kBodies, c.db.bodies, std::string(k), std::string(v),
                       !sub ? "bad body key" : "orphan body chunk: message record missing"});
  });
}

// Drops what no Pending recipient backs, adds what is missing.
Result<void> rebuild_due(Ctx& c, RecoveryScan& s) {
  for (const auto& e : s.due.finish())
    s.drop_due.push_back(due_key(static_cast<TimeMs>(e.due), e.id, e.index));
  for (const auto& k : s.drop_due) FERRY_TRY(c.txn.del(c.db.due, k));
  for (const auto& k : s.missing_due) FERRY_TRY(c.txn.put(c.db.due, k, ""));
  return {};
}

Result<void> end_leases(Ctx& c, RecoveryScan& s, TimeMs now, const RecoveryOptions& options,
                        RecoveryReport& report) {
  for (auto& [qid, r] : s.unlease) {
    const RecipientRecord after = unleased(r, now, options);
    if (after.interrupted > 1) report.suspects.push_back(DueRecipient{qid, r.index, after.next_attempt_ms});
    FERRY_TRY(update_recipient(c, qid, r, after));
  }
  report.unleased = s.unlease.size();
  return {};
}
}  // namespace

Result<RecoveryReport> recover(Ctx& c, TimeMs now, const RecoveryOptions& options) {
  RecoveryReport report;
  RecoveryScan s;
  FERRY_TRY(scan_messages(c, s));
  report.messages = s.live.size();
  FERRY_TRY(scan_due(c, s));
  FERRY_TRY(scan_recipients(c, s, report));
  FERRY_TRY(scan_bodies(c, s));
  FERRY_TRY(rebuild_due(c, s));
  for (const auto& b : s.bad) FERRY_TRY(quarantine(c, b.table, b.dbi, b.key, b.raw, b.reason, now));
  report.quarantined = s.bad.size();
  FERRY_TRY(end_leases(c, s, now, options, report));
  return report;
}

}  // namespace ferry::queue::ops
