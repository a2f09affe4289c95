// EventSecret: see EventSecret.hpp.
#include "mta/outbound/EventSecret.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::outbound {

namespace {
constexpr std::size_t kMaxSecret = 4096;
}  // namespace

// Read as root, before privileges are dropped: a link planted in a directory the run user can
// write must not lead the daemon to another file.
Result<std::string> read_event_secret(const std::string& path) {
  // O_NONBLOCK: a FIFO put there must not hang the start; only a regular file is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorKind::Io, "cannot open secret_file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::Invalid, "secret_file " + path + " is not a regular file");
  }
  std::string data(kMaxSecret + 1, '\0');
  const ssize_t n = ::read(fd, data.data(), data.size());
  ::close(fd);
  if (n < 0) return make_error(ErrorKind::Io, "cannot read secret_file " + path);
  data.resize(static_cast<std::size_t>(n));
  if (data.size() > kMaxSecret)
    return make_error(ErrorKind::Invalid, "secret_file " + path + " is over 4 KiB");
  data = data.substr(0, data.find_first_of("\r\n"));
  if (data.size() < 16)
    return make_error(ErrorKind::Invalid, "secret_file " + path + ": the key needs 16 bytes at least");
  return data;
}

}  // namespace ferry::outbound
