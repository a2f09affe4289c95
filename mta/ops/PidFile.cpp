// PidFile: see PidFile.hpp. A POSIX record lock (F_SETLK) rather than flock(2): F_GETLK reports
// the holder's pid from the kernel, which is what a client signals. The daemon never opens the
// file a second time, so closing another descriptor cannot drop the lock (a POSIX lock rule).
#include "mta/ops/PidFile.hpp"

#include "mta/ops/ControlSocket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::ops {
namespace {

constexpr const char* kName = "ferry.pid";

struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;
  return l;
}

// The holder of a write lock on `fd`'s file, if any.
std::optional<pid_t> lock_holder(int fd) {
  struct flock l = whole_file(F_WRLCK);
  if (::fcntl(fd, F_GETLK, &l) != 0 || l.l_type == F_UNLCK || l.l_pid <= 0) return std::nullopt;
  return l.l_pid;
}

}  // namespace

std::string pid_file_path(const std::string& queue_path) { return queue_path + "/" + kName; }

std::optional<pid_t> running_daemon(const std::string& queue_path) {
  const int fd = ::open(pid_file_path(queue_path).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<pid_t> pid;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) pid = lock_holder(fd);
  ::close(fd);
  return pid;
}

bool wake_daemon(const std::string& queue_path) {
  if (send_control_command(queue_path, "wake")) return true;
  // No control socket (it could not be bound): the lock holder, and only it, gets SIGUSR1.
  auto pid = running_daemon(queue_path);
  return pid && ::kill(*pid, SIGUSR1) == 0;
}

Result<std::unique_ptr<PidFile>> PidFile::acquire(const std::string& queue_path) {
  const int dir = ::open(queue_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return make_error(ErrorKind::Io, "cannot open " + queue_path + ": " + std::strerror(errno));
  const std::string path = pid_file_path(queue_path);
  // A daemon stopping unlinks the file it holds; retry when we locked a file that was unlinked.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = ::openat(dir, kName, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int e = errno;
      ::close(dir);
      return make_error(ErrorKind::Io, "cannot open " + path + ": " + std::strerror(e) +
                                           (e == ELOOP ? " (a symbolic link: remove it)" : ""));
    }
    struct stat st {
    }, now{};
    struct flock l = whole_file(F_WRLCK);
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ::fcntl(fd, F_SETLK, &l) != 0) {
      const int e = errno;
      auto holder = lock_holder(fd);
      ::close(fd);
      ::close(dir);
      if (holder)
        return make_error(ErrorKind::Busy, "another ferry daemon (pid " + std::to_string(*holder) +
                                               ") is running on the queue " + queue_path + " (it holds " +
                                               path + ")");
      return make_error(ErrorKind::Io, "cannot lock " + path + ": " +
                                           (S_ISREG(st.st_mode) ? std::strerror(e) : "not a regular file"));
    }
    if (::fstatat(dir, kName, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_ino != st.st_ino ||
        now.st_dev != st.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      const int e = errno;
      ::close(fd);
      ::close(dir);
      return make_error(ErrorKind::Io, "cannot write " + path + ": " + std::strerror(e));
    }
    return std::unique_ptr<PidFile>(new PidFile(dir, fd));
  }
  ::close(dir);
  return make_error(ErrorKind::Busy, "cannot lock " + path + ": it keeps being replaced");
}

PidFile::~PidFile() {
  ::unlinkat(dir_, kName, 0);
  ::close(fd_);
  ::close(dir_);
}

}  // namespace ferry::ops
