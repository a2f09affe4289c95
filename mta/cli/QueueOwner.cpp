// QueueOwner: see QueueOwner.hpp. The directory is opened with O_NOFOLLOW|O_DIRECTORY and its
// owner read with fstat on that descriptor, so a link in place of the directory is refused.
#include "mta/cli/QueueOwner.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mta/ops/RunUser.hpp"

namespace ferry::cli {
namespace {

QueueAccess refused(std::string message) { return {QueueAccess::Kind::Refused, std::move(message)}; }

QueueAccess switch_to(const ops::RunUser& user) {
  if (auto done = ops::become(user); !done)
    return refused("cannot switch to " + user.name + ", the queue's owner: " + done.error().message);
  return {};
}

}  // namespace

QueueAccess become_queue_owner(const config::Config& config) {
  const std::string& path = config.queue.path;
  const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0 && errno == ENOENT) {
    if (::geteuid() != 0) return {};
    auto user = ops::resolve_run_user(config.user);
    if (!user) return refused("the queue " + path + " does not exist and " + user.error().message);
    return switch_to(*user);
  }
  if (dir < 0)
    return refused("the queue " + path + " cannot be opened as a directory (" + std::strerror(errno) +
                   (errno == ELOOP || errno == ENOTDIR ? "; a symbolic link is refused" : "") + ")");
  struct stat st {};
  const bool ok = ::fstat(dir, &st) == 0;
  ::close(dir);
  if (!ok) return refused("cannot examine the queue " + path + ": " + std::strerror(errno));
  const ops::RunUser owner = ops::run_user_for_uid(st.st_uid, st.st_gid);
  if (::geteuid() == 0) return switch_to(owner);
  if (::geteuid() != st.st_uid)
    return {QueueAccess::Kind::NotOwner, "the queue " + path + " belongs to " + owner.name + " (uid " +
                                             std::to_string(owner.uid) + "): run this as " + owner.name +
                                             " or as root"};
  return {};
}

}  // namespace ferry::cli
