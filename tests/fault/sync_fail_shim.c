/* sync_fail_shim: an LD_PRELOAD library that makes the durability barriers fail on demand.
 * While the file named by $FERRY_SYNC_FAIL_FLAG exists (stat'ed on every call), fsync, fdatasync
 * and msync return -1 with errno = EIO without doing anything; otherwise they are the real calls.
 * Without $FERRY_SYNC_FAIL_FLAG the library changes nothing.
 * Why this is enough to fail an LMDB commit: Ferry opens the queue without MDB_WRITEMAP and
 * without MDB_NOMETASYNC, so mdb_txn_commit writes the dirty pages, calls fdatasync on data.mdb
 * and only then writes the new meta page; a failing fdatasync aborts the transaction before the
 * meta page moves, and the previous commit stays the current one (the environment stays usable).
 * Each injected failure is reported on stderr (one write per line: it lands in the daemon's log
 * as a whole line) so a test can tell that the shim did fire. Used by fault_injection.py
 * settle_fails. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void*, size_t, int);
static const char* flag;

__attribute__((constructor)) static void init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_msync = (int (*)(void*, size_t, int))dlsym(RTLD_NEXT, "msync");
  const char* f = getenv("FERRY_SYNC_FAIL_FLAG");
  flag = (f && *f) ? f : NULL;
}

/* 1 = fail this call (and say so on stderr); errno is left as it was otherwise. */
static int failing(const char* call, int fd) {
  if (!flag) return 0;
  int saved = errno;
  struct stat st;
  if (stat(flag, &st) != 0) {
    errno = saved;
    return 0;
  }
  char line[160];
  int n = snprintf(line, sizeof line, "sync_fail_shim: %s(%d) -> EIO (%s exists)\n", call, fd, flag);
  if (n > 0) {
    ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)w;
  }
  errno = EIO;
  return 1;
}

int fsync(int fd) {
  if (failing("fsync", fd)) return -1;
  return real_fsync(fd);
}

int fdatasync(int fd) {
  if (failing("fdatasync", fd)) return -1;
  return real_fdatasync(fd);
}

int msync(void* addr, size_t len, int flags) {
  if (failing("msync", -1)) return -1;
  return real_msync(addr, len, flags);
}
