// QueueStore: the durable mail queue over one LMDB environment (see queue/README.md).
// Contract: every mutating call is one LMDB write transaction, committed with a synced commit
// before it returns success; on any error nothing of that call remains. Thread-safe; LMDB
// serialises writers across threads and processes (the daemon writes through CommitBatcher).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/DeliveryEvent.hpp"
#include "ferry/Result.hpp"
#include "ferry/Suppression.hpp"
#include "queue/PolicyCache.hpp"
#include "queue/QueueTypes.hpp"
#include "queue/TlsReportTypes.hpp"

namespace ferry::queue {

struct QueueOptions {
  std::string path;                   // directory of the LMDB environment (created if missing)
  std::size_t map_size = 1ull << 30;  // LMDB map size in bytes ([queue] max_size)
  bool sync = true;                   // false = MDB_NOSYNC: unsafe, for the power-cut proof only
  bool read_only = false;             // for inspection tools
};

// Test hook: called before every LMDB operation with its name; a non-zero return is taken as
// that operation's error code (MDB_* or errno). Used by the fault sweep (fail at the N-th op).
using FaultHook = std::function<int(std::string_view op)>;

class WriteTxn;  // a write transaction in progress (used by CommitBatcher to batch requests)

class QueueStore {
 public:
  static Result<std::unique_ptr<QueueStore>> open(const QueueOptions& options);
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // A new unique queue id (time-ordered). Does not touch the disk.
  QueueId allocate_id();

  // Start-up recovery: leased recipients become pending again, and their interrupted count
  // grows. A first interruption is due at now + options.after_crash_ms (or at the retry time its
  // lease recorded, if sooner); a second in a row keeps that retry time and is a suspect in the
  // report (so a message that crashes the daemon never causes a hot loop). Undecodable records
  // are quarantined.
  Result<RecoveryReport> recover(TimeMs now_ms, const RecoveryOptions& options = {});

  // --- mutations: each is one synced transaction ---
  Result<void> enqueue(const NewMessage& message);
  // Leases up to `limit` recipients due at or before now: records the attempt as started
  // (attempts+1, leased) and moves its due time to `retry_at_ms`, all before returning.
  Result<std::vector<DueRecipient>> lease_due(TimeMs now_ms, std::size_t limit, TimeMs retry_at_ms);
  // Leases specific recipients (the scheduler picked them from its in-memory index).
  // All or nothing: a recipient that is unknown, not Pending or already leased fails the call
  // with NotFound and nothing is leased.
  Result<void> lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms, TimeMs retry_at_ms);
  // Like lease(), but skips recipients that cannot be leased (held or removed by an operator
  // since the scheduler indexed them) and returns the ones it leased.
  Result<std::vector<DueRecipient>> try_lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms,
                                              TimeMs retry_at_ms);
  Result<void> settle(const SettleRequest& request);
  Result<void> hold(QueueId id);
  Result<void> release(QueueId id, TimeMs now_ms);
  Result<void> remove(QueueId id);
  Result<void> flush(std::optional<QueueId> id, TimeMs now_ms);  // all pending due now

  // --- reads (read-only transactions; never block writers) ---
  Result<MessageRecord> load(QueueId id) const;
  Result<std::string> read_body(QueueId id) const;
  // Visits every message in id order; stops early when `visit` returns false.
  Result<void> for_each(const std::function<bool(const MessageRecord&)>& visit) const;
  // Every pending, unheld recipient with its due time (to rebuild the in-memory scheduler).
  Result<std::vector<DueRecipient>> due_index() const;
  // Up to `limit` entries of the due index in due order (due time, then id and recipient),
  // strictly after `after`, or from the soonest without it: the scheduler reads a bounded window.
  Result<std::vector<DueRecipient>> due_range(const std::optional<DueRecipient>& after,
                                              std::size_t limit) const;
  Result<std::vector<QuarantinedRecord>> quarantined() const;

  // --- the policy cache (`sts` table, queue/PolicyCache.hpp): one synced transaction each ---
  Result<std::optional<PolicyCacheRecord>> policy_get(std::string_view domain) const;
  Result<void> policy_put(const PolicyCacheRecord& record);
  Result<bool> policy_erase(std::string_view domain);  // false when nothing was cached
  Result<std::vector<PolicyCacheRecord>> policy_list() const;

  // --- the suppression list (`suppression` table, queue/SuppressionOps.hpp) ---
  // Reads return the stored entry whatever its age (the ttl is the caller's); writes are one
  // synced transaction each. Addresses are keyed by suppression_key().
  Result<std::optional<SuppressionEntry>> suppression_get(std::string_view address) const;
  Result<void> suppression_put(const SuppressionEntry& entry);
  Result<bool> suppression_erase(std::string_view address);  // false when it was not listed
  Result<std::vector<SuppressionEntry>> suppression_list() const;
  // Deletes up to `limit` entries older than ttl_ms at now; returns how many.
  Result<std::size_t> suppression_purge(TimeMs now, TimeMs ttl_ms, std::size_t limit);
  // --- the delivery events outbox (`events`, queue/EventOps.hpp; queue/EventStore.cpp) ---
  // Events are appended by the mutations above, in their own transactions.
  Result<std::vector<DeliveryEvent>> events_after(std::uint64_t after_seq, std::size_t limit) const;
  Result<std::uint64_t> last_event_seq() const;                       // 0 when none was ever written
  Result<std::uint64_t> event_cursor(std::string_view sink) const;    // 0 = nothing acknowledged
  Result<void> ack_events(std::string_view sink, std::uint64_t seq);  // one synced transaction

  struct Stats {
    std::size_t messages = 0;
    std::size_t map_size = 0;
    std::size_t map_used = 0;  // high-water mark: LMDB never shrinks the file
    std::size_t map_free = 0;  // bytes of pages below map_used that are free for reuse (freelist)
  };
  Result<Stats> stats() const;
  // Messages, pending recipients and the oldest arrival, without reading every message.
  Result<QueueCounts> counts() const;

  // --- TLS Reporting counters (RFC 8460): the `tlsrpt` table ---
  // Adds the records' counters to the stored ones of the same day, domain and policy.
  Result<void> add_tls_reports(const std::vector<TlsReportRecord>& records);
  Result<std::vector<TlsReportRecord>> tls_reports(std::uint32_t day) const;
  Result<std::vector<std::uint32_t>> tls_report_days() const;  // days with records, ascending
  // Deletes a day's records once its reports are sent (undecodable ones go to quarantine).
  Result<void> delete_tls_reports(std::uint32_t day, TimeMs now_ms);

  // --- batching: CommitBatcher runs several requests in one transaction ---
  // Runs `body` in one write transaction; commits (synced) iff body returned ok.
  // per_operation = false: the WriteTxn's operations run directly in the transaction instead of
  // a nested one each (LMDB allocates megabytes for every nested transaction); a failed
  // operation then leaves the transaction to be aborted, so body must return an error.
  Result<void> write(const std::function<Result<void>(WriteTxn&)>& body, bool per_operation = true);

  // Space emergency for the events outbox: while on, appending an event deletes the oldest ones,
  // acknowledged or not, so the outbox cannot take the pages delivery results need. A commit
  // that fails for lack of space turns it on; the daemon turns it off when space is back.
  void set_event_shedding(bool on);
  bool event_shedding() const;

  void set_fault_hook(FaultHook hook);

  struct Impl;

 private:
  explicit QueueStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class WriteTxn;
};

// A write transaction in progress. Each operation runs in a nested transaction: if it fails,
// only that operation is undone and the outer transaction stays usable (so one oversized
// message in a batch does not fail its neighbours).
class WriteTxn {
 public:
  Result<void> enqueue(const NewMessage& message);
  Result<void> settle(const SettleRequest& request);
  Result<void> add_tls_reports(const std::vector<TlsReportRecord>& records);
  Result<void> delete_tls_reports(std::uint32_t day, TimeMs now_ms);
  Result<void> lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms, TimeMs retry_at_ms);
  Result<std::vector<DueRecipient>> try_lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms,
                                              TimeMs retry_at_ms);
  // The policy cache's write (QueueStore::policy_put), batched with others by the CommitBatcher.
  Result<void> policy_put(const PolicyCacheRecord& record);
  // The suppression purge (QueueStore::suppression_purge), batched by the CommitBatcher.
  Result<std::size_t> suppression_purge(TimeMs now, TimeMs ttl_ms, std::size_t limit);
  // Entries learnt from other nodes (QueueStore::suppression_put / suppression_erase), batched.
  Result<void> suppression_put(const SuppressionEntry& entry);
  Result<bool> suppression_erase(std::string_view address);
  // The events sinks' writes (queue/EventOps.hpp): a sink's cursor, and the outbox trim, which
  // returns how many events it deleted.
  Result<void> ack_events(std::string_view sink, std::uint64_t seq);
  Result<std::size_t> trim_events(const std::vector<std::string>& sinks, std::uint64_t retain,
                                  std::size_t max_delete);
  // The outbox trim of a queue short of space, sinks' cursors ignored (EventOps.hpp shed_events).
  Result<std::size_t> shed_events(std::uint64_t keep, std::size_t max_delete);
  // Runs `body` in one nested transaction: if it fails, everything it did is undone (the
  // CommitBatcher runs each request this way).
  Result<void> run(const std::function<Result<void>(WriteTxn&)>& body);

  struct State;
  explicit WriteTxn(State& state) : state_(state) {}

 private:
  State& state_;
};

}  // namespace ferry::queue
