// EventStore: the QueueStore and WriteTxn methods of the events outbox (see EventOps.hpp).
#include "queue/EventOps.hpp"
#include "queue/QueueStore.hpp"
#include "queue/StoreImpl.hpp"

namespace ferry::queue {

namespace {

template <typename T, typename F>
Result<T> in_txn(lmdb::Env& env, lmdb::Txn* parent, const Dbis& db, bool read_only, F&& f) {
  auto txn = lmdb::Txn::begin(env, parent, read_only);
  if (!txn) return txn.error();
  ops::Ctx c{*txn, db};
  Result<T> r = f(c);
  if (!r || read_only) return r;  // a read txn (or a failed write) is aborted by ~Txn
  if (auto done = txn->commit(); !done) return done.error();
  return r;
}

}  // namespace

Result<std::vector<DeliveryEvent>> QueueStore::events_after(std::uint64_t after_seq,
                                                            std::size_t limit) const {
  return in_txn<std::vector<DeliveryEvent>>(impl_->env, nullptr, impl_->db, true, [&](ops::Ctx& c) {
    return ops::events_after(c, after_seq, limit);
  });
}

Result<std::uint64_t> QueueStore::last_event_seq() const {
  return in_txn<std::uint64_t>(impl_->env, nullptr, impl_->db, true,
                               [&](ops::Ctx& c) { return ops::last_event_seq(c); });
}

Result<std::uint64_t> QueueStore::event_cursor(std::string_view sink) const {
  return in_txn<std::uint64_t>(impl_->env, nullptr, impl_->db, true,
                               [&](ops::Ctx& c) { return ops::event_cursor(c, sink); });
}

Result<void> QueueStore::ack_events(std::string_view sink, std::uint64_t seq) {
  return in_txn<void>(impl_->env, nullptr, impl_->db, false,
                      [&](ops::Ctx& c) { return ops::ack_events(c, sink, seq); });
}

// Nested, like every WriteTxn operation: a failure undoes only this request.
Result<void> WriteTxn::ack_events(std::string_view sink, std::uint64_t seq) {
  return in_txn<void>(state_.impl.env, &state_.txn, state_.impl.db, false,
                      [&](ops::Ctx& c) { return ops::ack_events(c, sink, seq); });
}

Result<std::size_t> WriteTxn::trim_events(const std::vector<std::string>& sinks, std::uint64_t retain,
                                          std::size_t max_delete) {
  return in_txn<std::size_t>(state_.impl.env, &state_.txn, state_.impl.db, false,
                             [&](ops::Ctx& c) { return ops::trim_events(c, sinks, retain, max_delete); });
}

void QueueStore::set_event_shedding(bool on) { impl_->db.shed_events.store(on); }
bool QueueStore::event_shedding() const { return impl_->db.shed_events.load(); }

Result<std::size_t> WriteTxn::shed_events(std::uint64_t keep, std::size_t max_delete) {
  return in_txn<std::size_t>(state_.impl.env, &state_.txn, state_.impl.db, false,
                             [&](ops::Ctx& c) { return ops::shed_events(c, keep, max_delete); });
}

}  // namespace ferry::queue
