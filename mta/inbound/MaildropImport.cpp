// MaildropImport: see MaildropImport.hpp. Files are opened with openat(O_NOFOLLOW|O_NONBLOCK)
// relative to the directory's descriptor, examined with fstat on the open file (no race between
// check and use), and only names "m.*" are taken: postdrop writes "t.*" and renames it when the
// file is complete and synced. The commit completes on the queue writer thread; the unlink and
// the log line are posted back to the I/O thread. A crash between commit and unlink imports the
// file again at the next start (at least once, as Postfix's pickup).
#include "mta/inbound/MaildropImport.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "mta/inbound/LocalSubmission.hpp"
#include "mta/inbound/MaildropFile.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::inbound {

struct MaildropImport::State {
  MaildropDeps deps;
  int dir = -1;
  bool missing_logged = false;
  std::set<std::string> in_flight;
  ~State() {
    if (dir >= 0) ::close(dir);
  }
};

namespace {

constexpr std::size_t kMaxPerScan = 1000;
constexpr std::size_t kHeaderSlack = 1u << 20;  // room for up to 1000 recipient lines

smtp::WallTime wall_now() {
  const TimeMs now = now_ms();
  std::time_t t = static_cast<std::time_t>(now / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  return smtp::WallTime{now, static_cast<int>(local.tm_gmtoff / 60)};
}

// Moves a refused file to <maildrop>/corrupt (a directory only the run user can enter), or
// removes it when that is impossible: it must not be tried again at every scan.
void quarantine(int dir, const std::string& name, const std::string& why) {
  ::mkdirat(dir, "corrupt", 0700);
  const int corrupt = ::openat(dir, "corrupt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (corrupt >= 0 && ::renameat(dir, name.c_str(), corrupt, name.c_str()) == 0) {
    ops::log_warning("maildrop: " + name + " refused (" + why + "): moved to corrupt/" + name);
  } else {
    ::unlinkat(dir, name.c_str(), 0);
    ops::log_warning("maildrop: " + name + " refused (" + why +
                     "): removed (no corrupt/ directory to keep it in)");
  }
  if (corrupt >= 0) ::close(corrupt);
}

// Reads a maildrop file: regular, one link (a hard link to someone else's file is refused), at
// most `limit` bytes. The owner's uid comes from the open file.
Result<std::string> read_file(int dir, const std::string& name, std::size_t limit, uid_t& owner) {
  const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == EACCES)
    return make_error(ErrorKind::Busy, "not finished");  // postdrop still writing
  if (fd < 0)
    return make_error(ErrorKind::Invalid, errno == ELOOP ? "a symbolic link" : std::strerror(errno));
  struct stat st {};
  Result<std::string> out = make_error(ErrorKind::Invalid, "not a regular file");
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    owner = st.st_uid;
    // postdrop makes the file readable only once it is complete and synced (a daemon running
    // as root could open it earlier).
    if (!(st.st_mode & S_IROTH))
      out = make_error(ErrorKind::Busy, "not finished");
    else if (st.st_nlink != 1)
      out = make_error(ErrorKind::Invalid, "has " + std::to_string(st.st_nlink) + " links");
    else if (static_cast<std::size_t>(st.st_size) > limit)
      out = make_error(ErrorKind::Invalid, "too large");
    else {
      std::string data(static_cast<std::size_t>(st.st_size), '\0');
      std::size_t got = 0;
      while (got < data.size()) {
        const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      data.resize(got);
      out = std::move(data);
    }
  }
  ::close(fd);
  return out;
}

void finish(const std::shared_ptr<MaildropImport::State>& st, const std::string& name, QueueId id,
            const std::string& sender, uid_t uid, const Result<void>& r) {
  st->in_flight.erase(name);
  if (!r) {
    ops::log_error("maildrop: " + name + ": cannot queue it: " + r.error().message + "; trying again later");
    return;
  }
  ::unlinkat(st->dir, name.c_str(), 0);
  ops::log_info(id.str() + ": from=<" + sender + ">, uid=" + std::to_string(uid) + ", queued from maildrop " +
                name);
  if (st->deps.on_queued) st->deps.on_queued(id);
}

void import_one(const std::shared_ptr<MaildropImport::State>& st, const std::string& name) {
  const config::Config& cfg = st->deps.config();
  const std::size_t max_message = cfg.smtp.max_message_size ? cfg.smtp.max_message_size : (64u << 20);
  uid_t uid = 0;
  auto data = read_file(st->dir, name, max_message + kHeaderSlack, uid);
  if (!data && data.error().kind == ErrorKind::Busy) return;
  if (!data) return quarantine(st->dir, name, data.error().message);
  auto entry = decode_maildrop(*data, max_message);
  if (!entry) return quarantine(st->dir, name, entry.error().message);
  passwd* pw = ::getpwuid(uid);
  if (!pw) return quarantine(st->dir, name, "its owner uid " + std::to_string(uid) + " has no account");
  LocalSubmission s;
  s.login = pw->pw_name;
  s.uid = uid;
  s.sender = s.login + "@" + st->deps.hostname;  // the owner, never a sender the file claims
  s.recipients = std::move(entry->recipients);
  s.message = std::move(entry->message);
  s.notify = entry->notify;
  s.ret = entry->ret;
  s.envid = std::move(entry->envid);
  auto signer = st->deps.signer ? st->deps.signer() : nullptr;
  const QueueId id = st->deps.store->allocate_id();
  auto msg = make_local_message(cfg, st->deps.hostname, signer.get(), s, id, wall_now());
  if (!msg) {
    if (msg.error().kind == ErrorKind::Security) {
      ops::log_error("maildrop: " + name + ": " + msg.error().message + "; trying again later");
      return;
    }
    return quarantine(st->dir, name, msg.error().message);
  }
  st->in_flight.insert(name);
  st->deps.batcher->submit_enqueue(std::move(*msg), [st, name, id, sender = s.sender, uid](Result<void> r) {
    boost::asio::post(st->deps.executor,
                      [st, name, id, sender, uid, r] { finish(st, name, id, sender, uid, r); });
  });
}

}  // namespace

MaildropImport::MaildropImport(MaildropDeps deps) : state_(std::make_shared<State>()) {
  state_->deps = std::move(deps);
}

MaildropImport::~MaildropImport() = default;

void MaildropImport::scan() {
  auto& st = *state_;
  if (st.dir < 0) {
    st.dir = ::open(st.deps.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    std::string problem = st.dir < 0 ? std::strerror(errno) : "";
    struct stat dst {};
    // Another account's directory could be rearranged under us by that account: not ours to read.
    if (st.dir >= 0 && (::fstat(st.dir, &dst) != 0 || dst.st_uid != ::geteuid())) {
      problem = "owned by uid " + std::to_string(dst.st_uid) + ", not by the run user: fix with chown";
      ::close(st.dir);
      st.dir = -1;
    }
    if (st.dir < 0) {
      if (!st.missing_logged)
        ops::log_warning("maildrop " + st.deps.dir + " cannot be used (" + problem +
                         "): local users' mail cannot wait there while the daemon is down");
      st.missing_logged = true;
      return;
    }
  }
  std::vector<std::string> names;
  if (DIR* d = ::fdopendir(::dup(st.dir))) {
    ::rewinddir(d);
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 2 && name.starts_with("m.") && !st.in_flight.count(name))
        names.push_back(std::move(name));
      if (names.size() >= kMaxPerScan) break;
    }
    ::closedir(d);
  }
  for (const auto& name : names) import_one(state_, name);
}

}  // namespace ferry::inbound
