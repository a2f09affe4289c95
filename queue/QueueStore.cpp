// QueueStore: opening the environment and the public API; each mutation is one transaction
// over the ops in TxnOps.cpp. See queue/README.md for the state machine and commit points.
#include "queue/QueueStore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "queue/Codec.hpp"
#include "queue/Schema.hpp"
#include "queue/TlsReportOps.hpp"
#include "queue/TxnOps.hpp"

namespace ferry::queue {

namespace {

// LMDB opens <path>/data.mdb and <path>/lock.mdb by name and would follow a symbolic link there
// (writing its lock header into whatever the link names). The directory is opened without
// following a link and both files must be regular files or absent.
Result<void> refuse_links(int dir, const std::string& path) {
  for (const char* name : {"data.mdb", "lock.mdb"}) {
    struct stat st {};
    if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // absent: LMDB creates it
    if (!S_ISREG(st.st_mode))
      return make_error(ErrorKind::Invalid, path + "/" + name + " is not a regular file (" +
                                                (S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file") +
                                                "): refusing to open the queue");
  }
  return {};
}

Result<void> prepare_directory(const std::string& path, bool read_only) {
  std::error_code ec;
  if (!read_only) {
    std::filesystem::create_directories(path, ec);
    if (ec) return make_error(ErrorKind::Io, "cannot create queue directory " + path + ": " + ec.message());
  }
  const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    if (errno == ENOENT)
      return make_error(ErrorKind::NotFound, "queue directory " + path + " does not exist");
    return make_error(ErrorKind::Io, "cannot open queue directory " + path + ": " + std::strerror(errno) +
                                         (errno == ELOOP || errno == ENOTDIR ? " (a symbolic link?)" : ""));
  }
  Result<void> r = refuse_links(dir, path);
  // The queue holds other people's mail: owner only.
  if (r && !read_only && ::fchmod(dir, 0700) != 0)
    r = make_error(ErrorKind::Io, "cannot chmod 0700 queue directory " + path + ": " + std::strerror(errno));
  ::close(dir);
  return r;
}

// One read transaction around `f` (many may run at once from any thread: MDB_NOTLS).
template <typename T, typename F>
Result<T> read_txn(QueueStore::Impl& impl, F&& f) {
  auto txn = lmdb::Txn::begin(impl.env, nullptr, /*read_only=*/true);
  if (!txn) return txn.error();
  ops::Ctx c{*txn, impl.db};
  return f(c);  // the read txn is aborted (released) by ~Txn
}

// One write transaction around `f`: committed (synced) iff f succeeded, else aborted.
template <typename T, typename F>
Result<T> write_txn(QueueStore::Impl& impl, F&& f) {
  auto txn = lmdb::Txn::begin(impl.env, nullptr, /*read_only=*/false);
  if (!txn) return txn.error();
  ops::Ctx c{*txn, impl.db};
  Result<T> r = f(c);
  if (r)
    if (auto done = txn->commit(); !done) r = done.error();
  if (!r && r.error().is_space()) impl.db.shed_events.store(true);
  return r;
}

// The events tables, added without a schema bump: a read-only open of an older queue finds
// none and reads the outbox as empty.
Result<void> open_events(lmdb::Txn& txn, QueueStore::Impl& impl, bool read_only) {
  auto events = txn.open_dbi(schema::kEvents, !read_only);
  auto cursors = events ? txn.open_dbi(schema::kEventCursors, !read_only) : events;
  if (events && cursors) {
    impl.db.events = *events;
    impl.db.event_cursors = *cursors;
    impl.db.has_events = true;
    return {};
  }
  const Error& e = events ? cursors.error() : events.error();
  if (read_only && e.kind == ErrorKind::NotFound) return {};
  return e;
}

Result<void> open_schema(QueueStore::Impl& impl, bool read_only) {
  auto txn = lmdb::Txn::begin(impl.env, nullptr, read_only);
  if (!txn) return txn.error();
  const std::pair<MDB_dbi*, const char*> dbs[] = {
      {&impl.db.meta, schema::kMeta},     {&impl.db.messages, schema::kMessages},
      {&impl.db.bodies, schema::kBodies}, {&impl.db.recipients, schema::kRecipients},
      {&impl.db.due, schema::kDue},       {&impl.db.quarantine, schema::kQuarantine},
  };
  for (auto [dbi, name] : dbs) {
    auto h = txn->open_dbi(name, !read_only);
    if (!h) return h.error();
    *dbi = *h;
  }
  if (auto h = txn->open_dbi(schema::kTlsReport, !read_only); h) {
    impl.db.tlsrpt = *h;
    impl.db.has_tlsrpt = true;
  } else if (!read_only || h.error().kind != ErrorKind::NotFound) {
    return h.error();
  }
  if (auto sts = txn->open_dbi(schema::kSts, !read_only); sts) {
    impl.db.sts = *sts;
    impl.has_policy_cache = true;
  } else if (!read_only) {
    return sts.error();
  }
  if (auto h = txn->open_dbi(schema::kSuppression, !read_only); h) {
    impl.db.suppression = *h;
    impl.db.has_suppression = true;
  } else if (!read_only || h.error().kind != ErrorKind::NotFound) {
    return h.error();
  }
  if (auto ev = open_events(*txn, impl, read_only); !ev) return ev;
  auto stored = txn->get(impl.db.meta, schema::kSchemaKey);
  if (!stored) return stored.error();
  if (!*stored) {
    if (read_only)
      return make_error(ErrorKind::Invalid, "queue has no schema version (never opened read-write)");
    if (auto put = txn->put(impl.db.meta, schema::kSchemaKey, codec::encode_schema(schema::kSchemaVersion));
        !put)
      return put.error();
  } else {
    auto version = codec::decode_schema(**stored);
    if (!version) return version.error();
    if (*version != schema::kSchemaVersion)
      return make_error(ErrorKind::Invalid, "queue schema version " + std::to_string(*version) +
                                                ", this ferry reads " +
                                                std::to_string(schema::kSchemaVersion));
  }
  // Ids must stay above every id already stored, whatever the clock says now.
  {
    auto cur = lmdb::Cursor::open(*txn, impl.db.messages);
    if (!cur) return cur.error();
    auto last = cur->last();
    if (!last) return last.error();
    if (*last)
      if (auto id = schema::parse_message_key((*last)->key)) impl.ids.observe(*id);
  }
  return txn->commit();
}

// fsync of a directory, so a rename in it survives a power cut.
Result<void> sync_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::Io, "cannot open directory " + path + " to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error(ErrorKind::Io, "cannot sync directory " + path);
  return {};
}

// A new queue is built aside and appears whole. LMDB writes a new data.mdb in steps (file,
// meta pages, then our first transaction); a power cut in between leaves a file that the next
// mdb_env_open refuses (MDB_INVALID) and the daemon would never start again. So the environment
// is created in <queue>/.creating, the schema transaction is committed and synced there, and only
// then is data.mdb renamed into the queue directory (one atomic step). A leftover .creating from
// an interrupted first start holds no mail and is removed.
Result<void> create_if_new(const QueueOptions& options, unsigned flags) {
  namespace fs = std::filesystem;
  const fs::path dir(options.path);
  std::error_code ec;
  if (fs::exists(dir / "data.mdb", ec)) return {};
  const fs::path building = dir / ".creating";
  fs::remove_all(building, ec);
  if (ec) return make_error(ErrorKind::Io, "cannot remove " + building.string() + ": " + ec.message());
  if (::mkdir(building.c_str(), 0700) != 0)
    return make_error(ErrorKind::Io, "cannot create " + building.string() + ": " + std::strerror(errno));
  {
    QueueOptions aside = options;
    aside.path = building.string();
    QueueStore::Impl impl(aside, 0);
    if (auto env = impl.env.open(aside.path, aside.map_size, flags, schema::kMaxDbs); !env)
      return env.error();
    if (auto s = open_schema(impl, false); !s) return s.error();
    // Synced even without [queue] sync: this is the only write that decides whether the queue opens.
    if (int rc = mdb_env_sync(impl.env.get(), 1)) return lmdb::to_error(rc, "env_sync");
  }  // the environment is closed here
  if (::rename((building / "data.mdb").c_str(), (dir / "data.mdb").c_str()) != 0)
    return make_error(ErrorKind::Io,
                      "cannot move the new queue into " + options.path + ": " + std::strerror(errno));
  if (auto s = sync_directory(options.path); !s) return s;
  fs::remove_all(building, ec);  // only its lock file is left; a failure here is harmless
  return {};
}

}  // namespace

QueueStore::QueueStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueueStore::~QueueStore() = default;

Result<std::unique_ptr<QueueStore>> QueueStore::open(const QueueOptions& options) {
  if (options.path.empty()) return make_error(ErrorKind::Invalid, "queue path is empty");
  if (auto dir = prepare_directory(options.path, options.read_only); !dir) return dir.error();
  std::random_device rd;
  auto impl = std::make_unique<Impl>(options, (static_cast<std::uint64_t>(rd()) << 32) | rd());
  // MDB_NOTLS: read transactions are not tied to a thread (the daemon reads from several).
  // No MDB_NOMETASYNC / MDB_WRITEMAP: a returned commit is on disk. MDB_NOSYNC only on request.
  unsigned flags = MDB_NOTLS;
  if (!options.sync) flags |= MDB_NOSYNC;
  if (options.read_only) flags |= MDB_RDONLY;
  if (!options.read_only)
    if (auto created = create_if_new(options, flags); !created) return created.error();
  if (auto env = impl->env.open(options.path, options.map_size, flags, schema::kMaxDbs); !env)
    return env.error();
  if (auto s = open_schema(*impl, options.read_only); !s) return s.error();
  return std::unique_ptr<QueueStore>(new QueueStore(std::move(impl)));
}

QueueId QueueStore::allocate_id() {
  // The id's time part is the wall clock in ms: the queue reads it itself (it is an I/O room).
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return impl_->ids.next(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

Result<RecoveryReport> QueueStore::recover(TimeMs now_ms, const RecoveryOptions& options) {
  return write_txn<RecoveryReport>(*impl_, [&](ops::Ctx& c) { return ops::recover(c, now_ms, options); });
}

Result<void> QueueStore::enqueue(const NewMessage& message) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::enqueue(c, message); });
}

Result<std::vector<DueRecipient>> QueueStore::lease_due(TimeMs now_ms, std::size_t limit,
                                                        TimeMs retry_at_ms) {
  return write_txn<std::vector<DueRecipient>>(
      *impl_, [&](ops::Ctx& c) { return ops::lease_due(c, now_ms, limit, retry_at_ms); });
}

Result<void> QueueStore::lease(const std::vector<DueRecipient>& recipients, TimeMs now_ms,
                               TimeMs retry_at_ms) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) -> Result<void> {
    auto r = ops::lease(c, recipients, now_ms, retry_at_ms, /*strict=*/true);
    if (!r) return r.error();
    return {};
  });
}

Result<std::vector<DueRecipient>> QueueStore::try_lease(const std::vector<DueRecipient>& recipients,
                                                        TimeMs now_ms, TimeMs retry_at_ms) {
  return write_txn<std::vector<DueRecipient>>(
      *impl_, [&](ops::Ctx& c) { return ops::lease(c, recipients, now_ms, retry_at_ms, /*strict=*/false); });
}

Result<void> QueueStore::settle(const SettleRequest& request) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::settle(c, request); });
}

Result<void> QueueStore::hold(QueueId id) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::hold(c, id); });
}

Result<void> QueueStore::release(QueueId id, TimeMs now_ms) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::release(c, id, now_ms); });
}

Result<void> QueueStore::remove(QueueId id) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::remove(c, id); });
}

Result<void> QueueStore::flush(std::optional<QueueId> id, TimeMs now_ms) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::flush(c, id, now_ms); });
}

Result<MessageRecord> QueueStore::load(QueueId id) const {
  return read_txn<MessageRecord>(*impl_, [&](ops::Ctx& c) { return ops::load(c, id); });
}

Result<std::string> QueueStore::read_body(QueueId id) const {
  return read_txn<std::string>(*impl_, [&](ops::Ctx& c) { return ops::read_body(c, id); });
}

Result<void> QueueStore::for_each(const std::function<bool(const MessageRecord&)>& visit) const {
  return read_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::for_each(c, visit); });
}

Result<std::vector<DueRecipient>> QueueStore::due_index() const {
  return read_txn<std::vector<DueRecipient>>(*impl_, [&](ops::Ctx& c) { return ops::due_index(c); });
}

Result<std::vector<DueRecipient>> QueueStore::due_range(const std::optional<DueRecipient>& after,
                                                        std::size_t limit) const {
  return read_txn<std::vector<DueRecipient>>(*impl_,
                                             [&](ops::Ctx& c) { return ops::due_range(c, after, limit); });
}

Result<std::vector<QuarantinedRecord>> QueueStore::quarantined() const {
  return read_txn<std::vector<QuarantinedRecord>>(*impl_, [&](ops::Ctx& c) { return ops::quarantined(c); });
}

Result<QueueCounts> QueueStore::counts() const {
  return read_txn<QueueCounts>(*impl_, [&](ops::Ctx& c) { return ops::counts(c); });
}

Result<QueueStore::Stats> QueueStore::stats() const {
  return read_txn<Stats>(*impl_, [&](ops::Ctx& c) -> Result<Stats> {
    auto st = c.txn.stat(impl_->db.messages);
    if (!st) return st.error();
    MDB_envinfo info{};
    MDB_stat env_stat{};
    int rc = impl_->env.call("env_info", [&] {
      int r = mdb_env_info(impl_->env.get(), &info);
      return r ? r : mdb_env_stat(impl_->env.get(), &env_stat);
    });
    if (rc) return lmdb::to_error(rc, "env_info");
    Stats s;
    s.messages = st->ms_entries;
    s.map_size = info.me_mapsize;
    s.map_used = (info.me_last_pgno + 1) * static_cast<std::size_t>(env_stat.ms_psize);
    // The freelist (DBI 0) holds, per freeing transaction, a page-number list whose first
    // element is its length (as mdb_stat -f counts it). Reused before the map grows.
    MDB_cursor* cur = nullptr;
    if (mdb_cursor_open(c.txn.get(), 0, &cur) == 0) {
      MDB_val k, v;
      std::size_t pages = 0;
      for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (v.mv_size >= sizeof(std::size_t)) pages += *static_cast<const std::size_t*>(v.mv_data);
      mdb_cursor_close(cur);
      s.map_free = pages * static_cast<std::size_t>(env_stat.ms_psize);
    }
    return s;
  });
}

Result<void> QueueStore::write(const std::function<Result<void>(WriteTxn&)>& body, bool per_operation) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) {
    WriteTxn::State state{*impl_, c.txn, !per_operation};
    WriteTxn txn(state);
    return body(txn);
  });
}

Result<void> QueueStore::add_tls_reports(const std::vector<TlsReportRecord>& records) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::add_tls_reports(c, records); });
}

Result<std::vector<TlsReportRecord>> QueueStore::tls_reports(std::uint32_t day) const {
  return read_txn<std::vector<TlsReportRecord>>(*impl_,
                                                [&](ops::Ctx& c) { return ops::tls_reports(c, day); });
}

Result<std::vector<std::uint32_t>> QueueStore::tls_report_days() const {
  return read_txn<std::vector<std::uint32_t>>(*impl_, [&](ops::Ctx& c) { return ops::tls_report_days(c); });
}

Result<void> QueueStore::delete_tls_reports(std::uint32_t day, TimeMs now_ms) {
  return write_txn<void>(*impl_, [&](ops::Ctx& c) { return ops::delete_tls_reports(c, day, now_ms); });
}

void QueueStore::set_fault_hook(FaultHook hook) { impl_->env.set_fault_hook(std::move(hook)); }

}  // namespace ferry::queue
