// SuppressionOps: see SuppressionOps.hpp; also the QueueStore and WriteTxn methods of the table.
// The QueueStore methods (the CLI's add, remove, list) are one synced transaction each; the
// daemon's entries come with the settle that records the failure (TxnOps.cpp, settle()).
#include "queue/SuppressionOps.hpp"

#include "queue/QueueStore.hpp"

namespace ferry::queue::ops {

namespace {

bool has_table(const Ctx& c) { return c.db.has_suppression; }

Error no_table() {
  return make_error(ErrorKind::Invalid, "the queue has no suppression table yet (opened read-only)");
}

}  // namespace

std::string encode_suppression(const SuppressionEntry& e) {
  codec::Writer w;
  w.u8(kSuppressionVersion);
  w.str(e.category);
  w.str(e.status);
  w.str(e.reply);
  w.i64(e.time_ms);
  w.u64(e.queue_id.value);
  w.u8(static_cast<std::uint8_t>(e.source));
  return w.take();
}

Result<SuppressionEntry> decode_suppression(std::string_view key, std::string_view value) {
  codec::Reader rd(value);
  if (rd.u8() != kSuppressionVersion) rd.fail("unknown suppression version");
  SuppressionEntry e;
  e.address = std::string(key);
  e.category = rd.str();
  e.status = rd.str();
  e.reply = rd.str();
  e.time_ms = rd.i64();
  e.queue_id = QueueId{rd.u64()};
  const std::uint8_t source = rd.u8();
  if (source > 1) rd.fail("unknown suppression source");
  e.source = static_cast<SuppressionSource>(source);
  if (rd.ok() && !rd.at_end()) rd.fail("trailing bytes");
  if (!rd.ok()) return make_error(ErrorKind::Corrupt, std::string("suppression record: ") + rd.error());
  return e;
}

Result<void> suppression_put(Ctx& c, const SuppressionEntry& e) {
  if (!has_table(c)) return no_table();
  const std::string key = suppression_key(e.address);
  if (key.empty() || key.size() > kMaxSuppressionAddress)
    return make_error(ErrorKind::Invalid, "suppression: the address is empty or too long");
  SuppressionEntry stored = e;
  stored.reply = suppression_reply_text(e.reply);
  return c.txn.put(c.db.suppression, key, encode_suppression(stored));
}

Result<void> settle_suppressions(Ctx& c, const std::vector<SuppressionEntry>& entries) {
  for (const auto& e : entries)
    if (auto put = suppression_put(c, e); !put) return put.error();
  return {};
}

Result<std::optional<SuppressionEntry>> suppression_get(Ctx& c, std::string_view address) {
  if (!has_table(c)) return std::optional<SuppressionEntry>();
  const std::string key = suppression_key(address);
  if (key.empty() || key.size() > kMaxSuppressionAddress) return std::optional<SuppressionEntry>();
  auto v = c.txn.get(c.db.suppression, key);
  if (!v) return v.error();
  if (!*v) return std::optional<SuppressionEntry>();
  auto e = decode_suppression(key, **v);
  if (!e) return e.error();
  return std::optional<SuppressionEntry>(std::move(*e));
}

Result<bool> suppression_erase(Ctx& c, std::string_view address) {
  if (!has_table(c)) return no_table();
  const std::string key = suppression_key(address);
  if (key.empty() || key.size() > kMaxSuppressionAddress) return false;
  return c.txn.del(c.db.suppression, key);
}

Result<std::vector<SuppressionEntry>> suppression_list(Ctx& c) {
  std::vector<SuppressionEntry> out;
  if (!has_table(c)) return out;
  auto cur = lmdb::Cursor::open(c.txn, c.db.suppression);
  if (!cur) return cur.error();
  for (auto e = cur->first();; e = cur->next()) {
    if (!e) return e.error();
    if (!*e) return out;
    if (auto rec = decode_suppression((*e)->key, (*e)->value)) out.push_back(std::move(*rec));
  }
}

Result<std::size_t> suppression_purge(Ctx& c, TimeMs now, TimeMs ttl_ms, std::size_t limit) {
  if (!has_table(c)) return std::size_t{0};
  std::vector<std::string> doomed;
  {
    auto cur = lmdb::Cursor::open(c.txn, c.db.suppression);
    if (!cur) return cur.error();
    for (auto e = cur->first(); doomed.size() < limit; e = cur->next()) {
      if (!e) return e.error();
      if (!*e) break;
      auto rec = decode_suppression((*e)->key, (*e)->value);
      // An entry that does not decode refuses nothing; it is not mail, so it is not quarantined.
      if (!rec || rec->expired(now, ttl_ms)) doomed.emplace_back((*e)->key);
    }
  }
  for (const auto& key : doomed)
    if (auto d = c.txn.del(c.db.suppression, key); !d) return d.error();
  return doomed.size();
}

}  // namespace ferry::queue::ops

namespace ferry::queue {

namespace {

template <typename T, typename F>
Result<T> in_read(QueueStore::Impl& impl, F&& f) {
  auto txn = lmdb::Txn::begin(impl.env, nullptr, /*read_only=*/true);
  if (!txn) return txn.error();
  ops::Ctx c{*txn, impl.db};
  return f(c);
}

template <typename T, typename F>
Result<T> in_write(QueueStore::Impl& impl, F&& f) {
  auto txn = lmdb::Txn::begin(impl.env, nullptr, /*read_only=*/false);
  if (!txn) return txn.error();
  ops::Ctx c{*txn, impl.db};
  Result<T> r = f(c);
  if (!r) return r;
  if (auto done = txn->commit(); !done) return done.error();
  return r;
}

}  // namespace

Result<std::optional<SuppressionEntry>> QueueStore::suppression_get(std::string_view address) const {
  return in_read<std::optional<SuppressionEntry>>(
      *impl_, [&](ops::Ctx& c) { return ops::suppression_get(c, address); });
}

Result<void> QueueStore::suppression_put(const SuppressionEntry& entry) {
  return in_write<void>(*impl_, [&](ops::Ctx& c) { return ops::suppression_put(c, entry); });
}

Result<bool> QueueStore::suppression_erase(std::string_view address) {
  return in_write<bool>(*impl_, [&](ops::Ctx& c) { return ops::suppression_erase(c, address); });
}

Result<std::vector<SuppressionEntry>> QueueStore::suppression_list() const {
  return in_read<std::vector<SuppressionEntry>>(*impl_,
                                                [&](ops::Ctx& c) { return ops::suppression_list(c); });
}

Result<std::size_t> QueueStore::suppression_purge(TimeMs now, TimeMs ttl_ms, std::size_t limit) {
  return in_write<std::size_t>(*impl_,
                               [&](ops::Ctx& c) { return ops::suppression_purge(c, now, ttl_ms, limit); });
}

}  // namespace ferry::queue

namespace ferry::queue {

Result<std::size_t> WriteTxn::suppression_purge(TimeMs now, TimeMs ttl_ms, std::size_t limit) {
  ops::Ctx c{state_.txn, state_.impl.db};
  return ops::suppression_purge(c, now, ttl_ms, limit);
}

Result<void> WriteTxn::suppression_put(const SuppressionEntry& entry) {
  ops::Ctx c{state_.txn, state_.impl.db};
  return ops::suppression_put(c, entry);
}

Result<bool> WriteTxn::suppression_erase(std::string_view address) {
  ops::Ctx c{state_.txn, state_.impl.db};
  return ops::suppression_erase(c, address);
}

}  // namespace ferry::queue
