// RunUser: see RunUser.hpp. The effective-id switch is done with the process still single
// threaded (at start-up, before the queue writer and resolver threads exist), so setegid/seteuid
// affect the only thread there is.
#include "mta/ops/RunUser.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ferry::ops {
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

RunUser run_user_for_uid(uid_t uid, gid_t fallback_gid) {
  RunUser u;
  u.uid = uid;
  u.gid = fallback_gid;
  u.name = "uid " + std::to_string(uid);
  if (passwd* pw = ::getpwuid(uid)) {
    u.gid = pw->pw_gid;
    u.name = pw->pw_name;
  }
  return u;
}

Result<RunUser> resolve_run_user(const std::string& user) {
  if (::geteuid() != 0) return run_user_for_uid(::geteuid(), ::getegid());
  if (user == "root") return run_user_for_uid(0, 0);
  errno = 0;
  passwd* pw = ::getpwnam(user.c_str());
  // Fail closed: running as root because the intended account is missing is never what the
  // operator wanted on a server that faces the Internet.
  if (!pw)
    return make_error(ErrorKind::Invalid, "user '" + user +
                                              "' does not exist: refusing to run as root. Create it "
                                              "(systemd-sysusers ferry.conf, or useradd --system " +
                                              user + "), or write user = \"root\" to run as root on purpose");
  RunUser u;
  u.uid = pw->pw_uid;
  u.gid = pw->pw_gid;
  u.name = pw->pw_name;
  u.drop = u.uid != 0;
  return u;
}

Result<void> become(const RunUser& user) {
  if (::geteuid() != 0 || user.uid == ::geteuid()) return {};
  if (::initgroups(user.name.c_str(), user.gid) != 0 && ::setgroups(0, nullptr) != 0)
    return make_error(ErrorKind::Io, errno_text("setgroups"));
  if (::setgid(user.gid) != 0) return make_error(ErrorKind::Io, errno_text("setgid"));
  if (::setuid(user.uid) != 0) return make_error(ErrorKind::Io, errno_text("setuid"));
  if (::setuid(0) == 0) return make_error(ErrorKind::Io, "could regain root after setuid");
  return {};
}

AsRunUser::AsRunUser(const RunUser& user) {
  if (!user.drop || ::geteuid() != 0) return;
  saved_gid_ = ::getegid();
  int n = ::getgroups(0, nullptr);
  if (n > 0) {
    saved_groups_.resize(static_cast<std::size_t>(n));
    n = ::getgroups(n, saved_groups_.data());
    saved_groups_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  // Root's supplementary groups must not come along: a root-group file would stay reachable.
  const gid_t groups[] = {user.gid};
  if (::setgroups(1, groups) != 0)
    error_ = errno_text("setgroups");
  else if (::setegid(user.gid) != 0)
    error_ = errno_text("setegid");
  else if (::seteuid(user.uid) != 0)
    error_ = errno_text("seteuid");
  switched_ = true;
}

AsRunUser::~AsRunUser() {
  if (!switched_) return;
  // Restoring root cannot fail when the real uid is root; if it did, going on would be unsafe.
  if (::seteuid(0) != 0 || ::setegid(saved_gid_) != 0 ||
      ::setgroups(saved_groups_.size(), saved_groups_.data()) != 0)
    std::abort();
}

}  // namespace ferry::ops
