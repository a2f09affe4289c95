// PolicyCache: the codec and the QueueStore methods of the `sts` table (see PolicyCache.hpp).
// Each write is one synced transaction of its own: a cached policy belongs to no message's state
// change, and losing the newest one to a crash only costs a fetch.
#include "queue/PolicyCache.hpp"

#include "ferry/text/Ascii.hpp"
#include "queue/Codec.hpp"
#include "queue/QueueStore.hpp"
#include "queue/Schema.hpp"
#include "queue/StoreImpl.hpp"

namespace ferry::queue {

namespace codec {

std::string encode_policy_cache(const PolicyCacheRecord& r) {
  Writer w;
  w.u8(kPolicyCacheVersion);
  w.str(r.id);
  w.str(r.policy_text);
  w.i64(r.fetched_ms);
  w.i64(r.expires_ms);
  w.i64(r.next_refresh_ms);
  w.u32(r.failures);
  return w.take();
}

Result<PolicyCacheRecord> decode_policy_cache(std::string_view domain, std::string_view bytes) {
  Reader rd(bytes);
  if (rd.u8() != kPolicyCacheVersion) rd.fail("unknown policy cache version");
  PolicyCacheRecord r;
  r.domain = std::string(domain);
  r.id = rd.str();
  r.policy_text = rd.str();
  r.fetched_ms = rd.i64();
  r.expires_ms = rd.i64();
  r.next_refresh_ms = rd.i64();
  r.failures = rd.u32();
  if (rd.ok() && !rd.at_end()) rd.fail("trailing bytes");
  if (!rd.ok()) return make_error(ErrorKind::Corrupt, std::string("policy cache record: ") + rd.error());
  return r;
}

}  // namespace codec

namespace {

// A queue opened read-only before the table existed has none: reads see it empty.
Result<lmdb::Txn> begin(QueueStore::Impl& impl, bool read_only) {
  if (!impl.has_policy_cache) return make_error(ErrorKind::NotFound, "the queue has no policy cache yet");
  return lmdb::Txn::begin(impl.env, nullptr, read_only);
}

}  // namespace

Result<std::optional<PolicyCacheRecord>> QueueStore::policy_get(std::string_view domain) const {
  if (!impl_->has_policy_cache) return std::optional<PolicyCacheRecord>();
  auto txn = begin(*impl_, true);
  if (!txn) return txn.error();
  const std::string key = text::to_lower(domain);
  auto v = txn->get(impl_->db.sts, key);
  if (!v) return v.error();
  if (!*v) return std::optional<PolicyCacheRecord>();
  auto r = codec::decode_policy_cache(key, **v);
  if (!r) return r.error();
  return std::optional<PolicyCacheRecord>(std::move(*r));
}

Result<void> QueueStore::policy_put(const PolicyCacheRecord& record) {
  auto txn = begin(*impl_, false);
  if (!txn) return txn.error();
  if (auto p = txn->put(impl_->db.sts, text::to_lower(record.domain), codec::encode_policy_cache(record)); !p)
    return p.error();
  return txn->commit();
}

Result<void> WriteTxn::policy_put(const PolicyCacheRecord& record) {
  if (!state_.impl.has_policy_cache) return make_error(ErrorKind::NotFound, "the queue has no policy cache");
  return state_.txn.put(state_.impl.db.sts, text::to_lower(record.domain),
                        codec::encode_policy_cache(record));
}

Result<bool> QueueStore::policy_erase(std::string_view domain) {
  auto txn = begin(*impl_, false);
  if (!txn) return txn.error();
  auto d = txn->del(impl_->db.sts, text::to_lower(domain));
  if (!d) return d.error();
  if (auto c = txn->commit(); !c) return c.error();
  return *d;
}

Result<std::vector<PolicyCacheRecord>> QueueStore::policy_list() const {
  std::vector<PolicyCacheRecord> out;
  if (!impl_->has_policy_cache) return out;
  auto txn = begin(*impl_, true);
  if (!txn) return txn.error();
  auto cur = lmdb::Cursor::open(*txn, impl_->db.sts);
  if (!cur) return cur.error();
  // An undecodable entry is skipped: it is a cache, the next fetch writes it anew.
  for (auto e = cur->first(); e && *e; e = cur->next()) {
    auto r = codec::decode_policy_cache((*e)->key, (*e)->value);
    if (r) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace ferry::queue
