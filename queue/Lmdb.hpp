// Lmdb: a thin RAII wrapper over the LMDB env, transactions and cursors used by the queue.
// Contract: every LMDB call goes through Env::call(), which first asks the FaultHook (so a test
// can fail the N-th operation); failures come back as ferry::Error naming the operation.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Result.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::queue::lmdb {

// MDB_MAP_FULL/MDB_TXN_FULL -> MapFull, ENOSPC/EDQUOT -> DiskFull, MDB_NOTFOUND -> NotFound,
// MDB_KEYEXIST -> Exists, anything else -> Io; the message names `op` and mdb_strerror(rc).
Error to_error(int rc, std::string_view op);

class Env {
 public:
  Env() = default;
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  Result<void> open(const std::string& path, std::size_t map_size, unsigned flags, unsigned max_dbs);
  MDB_env* get() const { return env_; }

  // The one place an LMDB function is called: the fault hook may replace its return code.
  template <typename F>
  int call(std::string_view op, F&& f) const {
    if (int rc = fault(op)) return rc;
    return f();
  }
  void set_fault_hook(FaultHook hook);

 private:
  int fault(std::string_view op) const;
  MDB_env* env_ = nullptr;
  // The hook is test-only; the flag keeps the mutex off the normal path.
  std::atomic<bool> has_hook_{false};
  mutable std::mutex hook_mutex_;
  std::shared_ptr<FaultHook> hook_;
};

class Txn {
 public:
  // parent != nullptr starts a nested write transaction (it must be a write txn).
  static Result<Txn> begin(Env& env, Txn* parent, bool read_only);
  Txn(Txn&& other) noexcept : env_(other.env_), txn_(other.txn_) { other.txn_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  ~Txn() { abort(); }

  Result<void> commit();  // on failure the transaction is already aborted
  void abort() noexcept;

  Result<MDB_dbi> open_dbi(const char* name, bool create);
  // The view points into the map: valid until the next write in this txn or its end.
  Result<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key);
  Result<void> put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  Result<bool> del(MDB_dbi dbi, std::string_view key);  // false if the key was absent
  Result<MDB_stat> stat(MDB_dbi dbi);

  Env& env() { return *env_; }
  MDB_txn* get() const { return txn_; }

 private:
  Txn(Env& env, MDB_txn* txn) : env_(&env), txn_(txn) {}
  Env* env_;
  MDB_txn* txn_;
};

class Cursor {
 public:
  struct Entry {
    std::string_view key;
    std::string_view value;
  };
  static Result<Cursor> open(Txn& txn, MDB_dbi dbi);
  Cursor(Cursor&& other) noexcept : env_(other.env_), cursor_(other.cursor_) { other.cursor_ = nullptr; }
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor() {
    if (cursor_) mdb_cursor_close(cursor_);
  }

  Result<std::optional<Entry>> first() { return move(MDB_FIRST, {}); }
  Result<std::optional<Entry>> seek(std::string_view key) { return move(MDB_SET_RANGE, key); }
  Result<std::optional<Entry>> next() { return move(MDB_NEXT, {}); }
  Result<std::optional<Entry>> last() { return move(MDB_LAST, {}); }

 private:
  Cursor(Env& env, MDB_cursor* c) : env_(&env), cursor_(c) {}
  Result<std::optional<Entry>> move(MDB_cursor_op op, std::string_view key);
  Env* env_;
  MDB_cursor* cursor_;
};

}  // namespace ferry::queue::lmdb
