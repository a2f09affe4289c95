// StoreImpl: the private state behind QueueStore and WriteTxn (env, database handles, ids).
// Contract: internal to queue/; the database handles are opened once at open() and stay valid.
#pragma once

#include <atomic>

#include "queue/IdAllocator.hpp"
#include "queue/Lmdb.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::queue {

struct Dbis {
  MDB_dbi meta = 0;
  MDB_dbi messages = 0;
  MDB_dbi bodies = 0;
  MDB_dbi recipients = 0;
  MDB_dbi due = 0;
  MDB_dbi quarantine = 0;
  MDB_dbi tlsrpt = 0;
  bool has_tlsrpt = false;       // false: a read-only queue that an older ferry created
  MDB_dbi sts = 0;               // the policy cache (PolicyCache.hpp)
  MDB_dbi suppression = 0;       // suppressed addresses (SuppressionOps.hpp)
  bool has_suppression = false;  // false: a read-only queue that an older ferry created
  MDB_dbi events = 0;            // the delivery events outbox (EventOps.hpp)
  MDB_dbi event_cursors = 0;     // each sink's last acknowledged event
  bool has_events = false;
  // While set, each appended event first deletes the oldest ones (EventOps.hpp shed_events): a
  // queue out of space must still record delivery results, and a growing outbox would take the
  // last free pages they need. Set by a failed commit for lack of space and by the daemon.
  mutable std::atomic<bool> shed_events{false};  // false: a read-only queue that an older ferry created
};

struct QueueStore::Impl {
  Impl(QueueOptions opts, std::uint64_t seed) : options(std::move(opts)), ids(0, seed) {}
  QueueOptions options;
  lmdb::Env env;
  Dbis db;
  bool has_policy_cache = false;  // false only for a read-only open of a queue made before it
  IdAllocator ids;
};

struct WriteTxn::State {
  QueueStore::Impl& impl;
  lmdb::Txn& txn;
  // Operations run in txn itself, not in a nested transaction each (QueueStore::write's
  // per_operation = false): a failed one leaves txn to be aborted whole.
  bool flat = false;
};

}  // namespace ferry::queue
