// TxnOps: every queue state change and read, applied inside a transaction the caller owns.
// Contract: an op either succeeds or returns an error, after which the caller aborts the
// transaction; ops never commit. The due index is kept equal to the set of Pending recipients.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "queue/Codec.hpp"
#include "queue/StoreImpl.hpp"

namespace ferry::queue::ops {

struct Ctx {
  lmdb::Txn& txn;
  const Dbis& db;
};

// --- reads (usable in read or write transactions) ---
// Absent -> nullopt; undecodable -> ErrorKind::Corrupt (the caller decides whether to quarantine).
Result<std::optional<codec::StoredMessage>> get_message(Ctx& c, QueueId id);
Result<std::optional<RecipientRecord>> get_recipient(Ctx& c, QueueId id, std::uint32_t index);
Result<std::vector<RecipientRecord>> get_recipients(Ctx& c, QueueId id);
Result<MessageRecord> load(Ctx& c, QueueId id);
Result<std::string> read_body(Ctx& c, QueueId id);
Result<void> for_each(Ctx& c, const std::function<bool(const MessageRecord&)>& visit);
Result<std::vector<DueRecipient>> due_index(Ctx& c);
// Up to `limit` due entries in due order, strictly after `after` (from the start without it).
Result<QueueCounts> counts(Ctx& c);
Result<std::vector<DueRecipient>> due_range(Ctx& c, const std::optional<DueRecipient>& after,
                                            std::size_t limit);
Result<std::vector<QuarantinedRecord>> quarantined(Ctx& c);

// --- writes ---
Result<void> enqueue(Ctx& c, const NewMessage& m);
// strict: every listed recipient must exist, be Pending and not leased, else NotFound and the
// whole call fails. Not strict: those are skipped. Returns the recipients actually leased.
Result<std::vector<DueRecipient>> lease(Ctx& c, const std::vector<DueRecipient>& list, TimeMs now,
                                        TimeMs retry_at, bool strict);
Result<std::vector<DueRecipient>> lease_due(Ctx& c, TimeMs now, std::size_t limit, TimeMs retry_at);
Result<void> settle(Ctx& c, const SettleRequest& request);
Result<void> hold(Ctx& c, QueueId id);
Result<void> release(Ctx& c, QueueId id, TimeMs now);
Result<void> remove(Ctx& c, QueueId id);
Result<void> flush(Ctx& c, std::optional<QueueId> id, TimeMs now);
Result<RecoveryReport> recover(Ctx& c, TimeMs now, const RecoveryOptions& options);

}  // namespace ferry::queue::ops
