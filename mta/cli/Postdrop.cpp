// Postdrop: `ferry postdrop [-C FILE]`, installed setgid ferry-drop as ferry-postdrop (as
// Postfix's postdrop): stores one maildrop file, read from stdin, in the maildrop directory
// (mode 1730, group ferry-drop), so a local user's mail waits there while the daemon is down
// without anyone but the run user ever writing the queue itself.
// Contract: exit 0 only once the file is complete and fsynced; 65 input refused, 75 cannot
// store it now, 78 configuration. The group privilege is used for the maildrop write alone:
// the environment is cleared and the configuration and stdin are read with the real gid.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/inbound/MaildropFile.hpp"

#ifndef FERRY_DEFAULT_CONFIG
#define FERRY_DEFAULT_CONFIG "/etc/ferry/ferry.toml"
#endif

extern char** environ;

namespace ferry::cli {
namespace {

constexpr int kExitDataErr = 65;
constexpr const char* kDropGroup = "ferry-drop";

void say(const std::string& text) { std::fprintf(stderr, "postdrop: %s\n", text.c_str()); }

std::string random_name() {
  std::random_device rd;
  static const char* digits = "0123456789abcdef";
  std::string s = "m.";
  for (int i = 0; i < 20; ++i) s += digits[rd() % 16];
  return s;
}

// Reads stdin up to `limit` bytes; false when there is more.
bool read_input(std::string& out, std::size_t limit) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    if (out.size() + static_cast<std::size_t>(n) > limit) return false;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string why_not_writable(bool setgid_run) {
  if (setgid_run) return "";
  std::string why = " (ferry-postdrop is not installed setgid " + std::string(kDropGroup);
  if (!::getgrnam(kDropGroup))
    why += "; the group " + std::string(kDropGroup) +
           " does not exist on this system: create it with "
           "systemd-sysusers ferry.conf and reinstall";
  return why + ")";
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Creates m.<random> write-only for its owner, writes and fsyncs it, then makes it readable:
// the daemon takes only readable files, so it never sees half a file.
int store(const std::string& dir_path, const std::string& data, gid_t drop_gid, bool setgid_run) {
  if (setgid_run && ::setegid(drop_gid) != 0)
    return say(std::string("setegid: ") + std::strerror(errno)), kExitTempFail;
  const int dir = ::open(dir_path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int fd = -1;
  std::string name;
  for (int attempt = 0; dir >= 0 && fd < 0 && attempt < 8; ++attempt) {
    name = random_name();
    fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0200);
    if (fd < 0 && errno != EEXIST) break;
  }
  const int open_errno = errno;
  if (setgid_run) (void)::setegid(::getgid());  // nothing else needs the group
  if (fd < 0) {
    if (dir >= 0) ::close(dir);
    say("cannot write to the maildrop " + dir_path + ": " + std::strerror(open_errno) +
        (open_errno == EACCES || open_errno == EPERM ? why_not_writable(setgid_run) : std::string()));
    return kExitTempFail;
  }
  const bool ok = write_all(fd, data) && ::fsync(fd) == 0 && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlinkat(dir, name.c_str(), 0);
    ::close(dir);
    say("cannot write " + dir_path + "/" + name + ": " + std::strerror(write_errno));
    return kExitTempFail;
  }
  ::close(dir);
  return kExitOk;
}

}  // namespace

int cmd_postdrop(const Args& args) {
  // Setgid: work with the real group, keep the saved one for the maildrop write; and trust
  // nothing the caller's environment says (locale, TZ, malloc knobs, FERRY_CONFIG ...).
  const gid_t drop_gid = ::getegid();
  const bool setgid_run = drop_gid != ::getgid();
  if (setgid_run && ::setegid(::getgid()) != 0)
    return say(std::string("setegid: ") + std::strerror(errno)), kExitTempFail;
  if (setgid_run) ::clearenv();
  ::umask(077);
  CommonOptions common;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-C" || args[i] == "--config") && i + 1 < args.size())
      common.config_path = args[++i];
    else
      return say("usage: ferry postdrop [-C FILE] < maildrop-file"), kExitUsage;
  }
  if (!common.config_path)
    if (struct stat st{}; ::stat(FERRY_DEFAULT_CONFIG, &st) == 0) common.config_path = FERRY_DEFAULT_CONFIG;
  auto cfg = load_cli_config(common);  // read with the real gid: no file the caller could not read
  if (!cfg) return kExitConfig;
  const std::size_t max_message = cfg->smtp.max_message_size ? cfg->smtp.max_message_size : (64u << 20);
  std::string data;
  if (!read_input(data, max_message + (1u << 20))) return say("input too large or unreadable"), kExitDataErr;
  if (auto entry = inbound::decode_maildrop(data, max_message); !entry)
    return say("refused: " + entry.error().message), kExitDataErr;
  return store(config::effective_maildrop(*cfg), data, drop_gid, setgid_run);
}

}  // namespace ferry::cli
