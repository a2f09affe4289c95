// Lmdb: see Lmdb.hpp.
#include "queue/Lmdb.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <string>

namespace ferry::queue::lmdb {

namespace {
// The directory of the environment opened by this process (one per process: LMDB's rule), so
// that an EIO can be told apart from a full filesystem.
std::string g_env_path;

// LMDB reports a write cut short by ENOSPC as EIO; when the queue's filesystem has (almost) no
// space left, that EIO is really "disk full" and the server must answer 452 4.3.1, not 451.
bool filesystem_full(const std::string& path) {
  struct statvfs st {};
  if (path.empty() || statvfs(path.c_str(), &st) != 0) return false;
  return static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < (1ull << 20);
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }
}  // namespace

Error to_error(int rc, std::string_view op) {
  ErrorKind kind = ErrorKind::Io;
  switch (rc) {
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
      kind = ErrorKind::MapFull;
      break;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      kind = ErrorKind::DiskFull;
      break;
    case EIO:
      if (filesystem_full(g_env_path)) kind = ErrorKind::DiskFull;
      break;
    case MDB_NOTFOUND:
      kind = ErrorKind::NotFound;
      break;
    case MDB_KEYEXIST:
      kind = ErrorKind::Exists;
      break;
    default:
      break;
  }
  return make_error(kind, "lmdb " + std::string(op) + ": " + mdb_strerror(rc));
}

Env::~Env() {
  if (env_) mdb_env_close(env_);
}

Result<void> Env::open(const std::string& path, std::size_t map_size, unsigned flags, unsigned max_dbs) {
  MDB_env* env = nullptr;
  g_env_path = path;
  if (int rc = call("env_create", [&] { return mdb_env_create(&env); })) return to_error(rc, "env_create");
  env_ = env;
  if (int rc = call("env_set_mapsize", [&] { return mdb_env_set_mapsize(env_, map_size); }))
    return to_error(rc, "env_set_mapsize");
  if (int rc = call("env_set_maxdbs", [&] { return mdb_env_set_maxdbs(env_, max_dbs); }))
    return to_error(rc, "env_set_maxdbs");
  if (int rc = call("env_open", [&] { return mdb_env_open(env_, path.c_str(), flags, 0600); }))
    return to_error(rc, "env_open " + path);
  return {};
}

void Env::set_fault_hook(FaultHook hook) {
  std::lock_guard lock(hook_mutex_);
  hook_ = hook ? std::make_shared<FaultHook>(std::move(hook)) : nullptr;
  has_hook_.store(hook_ != nullptr, std::memory_order_release);
}

int Env::fault(std::string_view op) const {
  if (!has_hook_.load(std::memory_order_acquire)) return 0;
  std::shared_ptr<FaultHook> hook;
  {
    std::lock_guard lock(hook_mutex_);
    hook = hook_;
  }
  return hook ? (*hook)(op) : 0;
}

Result<Txn> Txn::begin(Env& env, Txn* parent, bool read_only) {
  MDB_txn* txn = nullptr;
  int rc = env.call("txn_begin", [&] {
    return mdb_txn_begin(env.get(), parent ? parent->txn_ : nullptr, read_only ? MDB_RDONLY : 0, &txn);
  });
  if (rc) return to_error(rc, parent ? "txn_begin (nested)" : "txn_begin");
  return Txn(env, txn);
}

Result<void> Txn::commit() {
  // mdb_txn_commit frees the txn whether it succeeds or fails; an injected fault did not call
  // it, so that txn is still live and is aborted here. Either way nothing is left open.
  bool called = false;
  int rc = env_->call("txn_commit", [&] {
    called = true;
    return mdb_txn_commit(txn_);
  });
  if (called)
    txn_ = nullptr;
  else
    abort();
  if (rc) return to_error(rc, "txn_commit");
  return {};
}

void Txn::abort() noexcept {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Result<MDB_dbi> Txn::open_dbi(const char* name, bool create) {
  MDB_dbi dbi = 0;
  if (int rc =
          env_->call("dbi_open", [&] { return mdb_dbi_open(txn_, name, create ? MDB_CREATE : 0, &dbi); }))
    return to_error(rc, std::string("dbi_open ") + name);
  return dbi;
}

Result<std::optional<std::string_view>> Txn::get(MDB_dbi dbi, std::string_view key) {
  MDB_val k = val(key), v{};
  int rc = env_->call("get", [&] { return mdb_get(txn_, dbi, &k, &v); });
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc) return to_error(rc, "get");
  return std::optional<std::string_view>(view(v));
}

Result<void> Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = val(key), v = val(value);
  if (int rc = env_->call("put", [&] { return mdb_put(txn_, dbi, &k, &v, flags); }))
    return to_error(rc, "put");
  return {};
}

Result<bool> Txn::del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = val(key);
  int rc = env_->call("del", [&] { return mdb_del(txn_, dbi, &k, nullptr); });
  if (rc == MDB_NOTFOUND) return false;
  if (rc) return to_error(rc, "del");
  return true;
}

Result<MDB_stat> Txn::stat(MDB_dbi dbi) {
  MDB_stat st{};
  if (int rc = env_->call("stat", [&] { return mdb_stat(txn_, dbi, &st); })) return to_error(rc, "stat");
  return st;
}

Result<Cursor> Cursor::open(Txn& txn, MDB_dbi dbi) {
  MDB_cursor* c = nullptr;
  if (int rc = txn.env().call("cursor_open", [&] { return mdb_cursor_open(txn.get(), dbi, &c); }))
    return to_error(rc, "cursor_open");
  return Cursor(txn.env(), c);
}

Result<std::optional<Cursor::Entry>> Cursor::move(MDB_cursor_op op, std::string_view key) {
  MDB_val k = val(key), v{};
  int rc = env_->call("cursor_get", [&] { return mdb_cursor_get(cursor_, &k, &v, op); });
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc) return to_error(rc, "cursor_get");
  return std::optional<Entry>(Entry{view(k), view(v)});
}

}  // namespace ferry::queue::lmdb
