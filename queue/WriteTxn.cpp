// WriteTxn: the operations of a batched write transaction, each in its own nested LMDB
// transaction so a failing request (say MapFull for one huge message) undoes only itself.
#include "queue/QueueStore.hpp"
#include "queue/TlsReportOps.hpp"
#include "queue/TxnOps.hpp"

namespace ferry::queue {

namespace {

template <typename T, typename F>
Result<T> nested(WriteTxn::State& s, F&& f) {
  if (s.flat) {
    ops::Ctx c{s.txn, s.impl.db};
    return f(s.txn, c);
  }
  auto child = lmdb::Txn::begin(s.impl.env, &s.txn, /*read_only=*/false);
  if (!child) return child.error();
  ops::Ctx c{*child, s.impl.db};
  Result<T> r = f(*child, c);
  if (!r) return r;  // ~Txn aborts the child; the parent is as it was
  if (auto done = child->commit(); !done) return done.error();
  return r;
}

}  // namespace

Result<void> WriteTxn::enqueue(const NewMessage& message) {
  return nested<void>(state_, [&](lmdb::Txn&, ops::Ctx& c) { return ops::enqueue(c, message); });
}

Result<void> WriteTxn::settle(const SettleRequest& request) {
  return nested<void>(state_, [&](lmdb::Txn&, ops::Ctx& c) { return ops::settle(c, request); });
}

Result<void> WriteTxn::add_tls_reports(const std::vector<TlsReportRecord>& records) {
  return nested<void>(state_, [&](lmdb::Txn&, ops::Ctx& c) { return ops::add_tls_reports(c, records); });
}

Result<void> WriteTxn::delete_tls_reports(std::uint32_t day, TimeMs now_ms) {
  return nested<void>(state_,
                      [&](lmdb::Txn&, ops::Ctx& c) { return ops::delete_tls_reports(c, day, now_ms); });
}

Result<void> WriteTxn::lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms, TimeMs retry_at_ms) {
  return nested<void>(state_, [&](lmdb::Txn&, ops::Ctx& c) -> Result<void> {
    auto r = ops::lease(c, recipients, now_ms, retry_at_ms, /*strict=*/true);
    if (!r) return r.error();
    return {};
  });
}

Result<std::vector<DueRecipient>> WriteTxn::try_lease(const std::vector<DueRecipient>& recipients,
                                                      TimeMs now_ms, TimeMs retry_at_ms) {
  return nested<std::vector<DueRecipient>>(state_, [&](lmdb::Txn&, ops::Ctx& c) {
    return ops::lease(c, recipients, now_ms, retry_at_ms, /*strict=*/false);
  });
}

Result<void> WriteTxn::run(const std::function<Result<void>(WriteTxn&)>& body) {
  return nested<void>(state_, [&](lmdb::Txn& child, ops::Ctx&) {
    State inner{state_.impl, child, state_.flat};
    WriteTxn txn(inner);
    return body(txn);
  });
}

}  // namespace ferry::queue
