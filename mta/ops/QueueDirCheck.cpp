// QueueDirCheck: see QueueDirCheck.hpp. The directory is opened with O_NOFOLLOW|O_DIRECTORY and
// its files are examined with fstatat(AT_SYMLINK_NOFOLLOW) relative to that descriptor, so a
// link planted by the queue's owner is reported, not followed.
#include "mta/ops/QueueDirCheck.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ferry::ops {
namespace {

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string owner_text(uid_t uid) {
  return run_user_for_uid(uid, 0).name + " (uid " + std::to_string(uid) + ")";
}

Error invalid(std::string text) { return Error{ErrorKind::Invalid, std::move(text)}; }

Result<void> check_file(int dir, const std::string& path, const char* name, const RunUser& owner) {
  const std::string file = path + "/" + name;
  struct stat st {};
  if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return make_error(ErrorKind::Io, "cannot examine " + file + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return invalid(file + " is not a regular file" + (S_ISLNK(st.st_mode) ? " (it is a symbolic link)" : "") +
                   ": refusing to open it; move it aside and find out who put it there");
  if (st.st_uid != owner.uid)
    return invalid(file + " is owned by " + owner_text(st.st_uid) + ", not by " + owner.name +
                   ": fix with chown " + owner.name + ": " + file);
  return {};
}

}  // namespace

Result<void> check_queue_dir(const std::string& path, const RunUser& owner) {
  const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    if (errno == ENOENT)
      return make_error(ErrorKind::NotFound, "queue directory " + path + " does not exist");
    struct stat st {};
    if ((errno == ELOOP || errno == ENOTDIR) && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      return invalid("queue directory " + path +
                     " is a symbolic link: refusing to follow it; make it a real "
                     "directory owned by " +
                     owner.name + " with mode 0700 (systemd-tmpfiles --create ferry.conf)");
    return invalid("queue directory " + path + " cannot be opened as a directory: " + std::strerror(errno));
  }
  struct stat st {};
  Result<void> r;
  if (::fstat(dir, &st) != 0) {
    r = make_error(ErrorKind::Io, "cannot examine " + path + ": " + std::strerror(errno));
  } else if (st.st_uid != owner.uid) {
    r = invalid("queue directory " + path + " is owned by " + owner_text(st.st_uid) + ", not by " +
                owner.name + " (uid " + std::to_string(owner.uid) + ") who runs the queue: fix with chown " +
                owner.name + ": " + path +
                " (the directory itself; check what is inside before changing more), or set user");
  } else if ((st.st_mode & 07777) != 0700) {
    r = invalid("queue directory " + path + " has mode " + octal(st.st_mode) +
                ", not 0700: fix with chmod 0700 " + path);
  } else {
    r = check_file(dir, path, "data.mdb", owner);
    if (r) r = check_file(dir, path, "lock.mdb", owner);
  }
  ::close(dir);
  return r;
}

}  // namespace ferry::ops
