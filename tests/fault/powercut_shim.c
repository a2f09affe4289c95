/* powercut_shim: an LD_PRELOAD library that journals every write and every durability barrier
 * on files under $FERRY_JOURNAL_DIR into $FERRY_JOURNAL (replayed by powercut_campaign.py).
 * Contract: the real call runs first and its record (what it actually did) is appended after it
 * returns, under one lock held across both, so journal order is completion order; a client that
 * reads the journal's size after it got a reply knows every record the reply depended on is in.
 * Record: u32 type, u32 file, u64 offset, u64 length, then `length` bytes of data for writes and
 * names (all little-endian, packed, 24-byte header). Writes through mmap are NOT seen (Ferry's
 * LMDB runs without MDB_WRITEMAP, so all its data goes through write/pwrite/writev). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  J_WRITE = 1,          /* write/pwrite/writev/pwritev on a plain descriptor */
  J_WRITE_SYNC = 2,     /* the same on an O_SYNC/O_DSYNC descriptor: durable when it returns */
  J_TRUNCATE = 3,       /* ftruncate: offset = new length */
  J_FSYNC = 4,          /* barrier for the file */
  J_FDATASYNC = 5,      /* barrier for the file's data (and the size) */
  J_MSYNC = 6,          /* recorded, not a barrier for the journal (mmap writes are not journaled) */
  J_SYNC_FILE_RANGE = 7,/* recorded, NOT a barrier: it flushes no metadata and no disk cache */
  J_SYNC_ALL = 8,       /* sync()/syncfs(): barrier for every file */
  J_NAME = 9,           /* file id -> path (data = path) */
  J_OPEN = 10,          /* offset = open flags */
};

struct __attribute__((packed)) rec { uint32_t type, file; uint64_t offset, length; };

#define MAXFD 65536
static int fd_file[MAXFD];   /* 0 = not tracked, else file id */
static int fd_sync[MAXFD];
static int fd_append[MAXFD];
static char* names[4096];
static int nnames;
static int jfd = -1;
static char dir[PATH_MAX];
static size_t dirlen;
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

#define REAL(name, ret, ...) static ret (*real_##name)(__VA_ARGS__)
REAL(open, int, const char*, int, ...);
REAL(open64, int, const char*, int, ...);
REAL(openat, int, int, const char*, int, ...);
REAL(openat64, int, int, const char*, int, ...);
REAL(close, int, int);
REAL(dup, int, int);
REAL(dup2, int, int, int);
REAL(dup3, int, int, int, int);
REAL(write, ssize_t, int, const void*, size_t);
REAL(pwrite, ssize_t, int, const void*, size_t, off_t);
REAL(pwrite64, ssize_t, int, const void*, size_t, off_t);
REAL(writev, ssize_t, int, const struct iovec*, int);
REAL(pwritev, ssize_t, int, const struct iovec*, int, off_t);
REAL(pwritev64, ssize_t, int, const struct iovec*, int, off_t);
REAL(pwritev2, ssize_t, int, const struct iovec*, int, off_t, int);
REAL(ftruncate, int, int, off_t);
REAL(ftruncate64, int, int, off_t);
REAL(fsync, int, int);
REAL(fdatasync, int, int);
REAL(msync, int, void*, size_t, int);
REAL(sync, void, void);
REAL(syncfs, int, int);
REAL(sync_file_range, int, int, off_t, off_t, unsigned int);

#define LOAD(name) real_##name = dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void init(void) {
  LOAD(open); LOAD(open64); LOAD(openat); LOAD(openat64); LOAD(close); LOAD(dup); LOAD(dup2);
  LOAD(dup3); LOAD(write); LOAD(pwrite); LOAD(pwrite64); LOAD(writev); LOAD(pwritev);
  LOAD(pwritev64); LOAD(pwritev2); LOAD(ftruncate); LOAD(ftruncate64); LOAD(fsync);
  LOAD(fdatasync); LOAD(msync); LOAD(sync); LOAD(syncfs); LOAD(sync_file_range);
  const char* j = getenv("FERRY_JOURNAL");
  const char* d = getenv("FERRY_JOURNAL_DIR");
  if (!j || !d) return;
  if (!realpath(d, dir)) { snprintf(dir, sizeof dir, "%s", d); }
  dirlen = strlen(dir);
  jfd = real_open(j, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static void emit(uint32_t type, uint32_t file, uint64_t offset, const struct iovec* iov, int n, uint64_t total) {
  if (jfd < 0) return;
  struct rec r = {type, file, offset, total};
  struct iovec v[1 + 1024];
  int k = 0;
  v[k].iov_base = &r; v[k].iov_len = sizeof r; ++k;
  uint64_t left = total;
  for (int i = 0; i < n && left > 0 && k < 1025; ++i) {
    size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
    v[k].iov_base = iov[i].iov_base; v[k].iov_len = len; ++k;
    left -= len;
  }
  /* One writev with O_APPEND: one record is never interleaved with another. Loop on short writes. */
  ssize_t want = (ssize_t)(sizeof r + total), done = 0;
  ssize_t w = real_writev(jfd, v, k);
  if (w > 0) done = w;
  while (done < want && w > 0) {   /* rare: finish a short write byte range by byte range */
    ssize_t skip = done; int i = 0;
    while (i < k && (size_t)skip >= v[i].iov_len) { skip -= v[i].iov_len; ++i; }
    if (i >= k) break;
    w = real_write(jfd, (char*)v[i].iov_base + skip, v[i].iov_len - skip);
    if (w > 0) done += w;
  }
}

static int track_path(const char* path, int dirfd) {
  char full[PATH_MAX * 2];
  if (path[0] == '/') snprintf(full, sizeof full, "%s", path);
  else {
    char base[PATH_MAX] = "";
    if (dirfd == AT_FDCWD) { if (!getcwd(base, sizeof base)) return 0; }
    else {
      char link[64]; snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(link, base, sizeof base - 1);
      if (n < 0) return 0;
      base[n] = 0;
    }
    snprintf(full, sizeof full, "%s/%s", base, path);
  }
  if (dirlen == 0 || strncmp(full, dir, dirlen) != 0 || (full[dirlen] != '/' && full[dirlen] != 0)) return 0;
  for (int i = 0; i < nnames; ++i)
    if (strcmp(names[i], full) == 0) return i + 1;
  if (nnames >= 4096) return 0;
  names[nnames++] = strdup(full);
  struct iovec v = {full, strlen(full)};
  emit(J_NAME, (uint32_t)nnames, 0, &v, 1, v.iov_len);
  return nnames;
}

static void after_open(int fd, const char* path, int dirfd, int flags) {
  if (fd < 0 || fd >= MAXFD || jfd < 0) return;
  int id = track_path(path, dirfd);
  fd_file[fd] = id;
  fd_sync[fd] = (flags & (O_SYNC | O_DSYNC)) != 0;
  fd_append[fd] = (flags & O_APPEND) != 0;
  if (id) emit(J_OPEN, (uint32_t)id, (uint64_t)flags, NULL, 0, 0);
}

#define OPEN_BODY(realfn, dirfd_expr, ...)                               \
  mode_t mode = 0;                                                        \
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); } \
  pthread_mutex_lock(&lock);                                              \
  int fd = realfn(__VA_ARGS__, mode);                                     \
  int saved = errno;                                                      \
  after_open(fd, path, dirfd_expr, flags);                                \
  pthread_mutex_unlock(&lock);                                            \
  errno = saved;                                                          \
  return fd;

int open(const char* path, int flags, ...) { OPEN_BODY(real_open, AT_FDCWD, path, flags) }
int open64(const char* path, int flags, ...) { OPEN_BODY(real_open64, AT_FDCWD, path, flags) }
int openat(int dirfd, const char* path, int flags, ...) { OPEN_BODY(real_openat, dirfd, dirfd, path, flags) }
int openat64(int dirfd, const char* path, int flags, ...) { OPEN_BODY(real_openat64, dirfd, dirfd, path, flags) }

static int tracked(int fd) { return fd >= 0 && fd < MAXFD && fd_file[fd] != 0; }

int close(int fd) {
  pthread_mutex_lock(&lock);
  int r = real_close(fd);
  int saved = errno;
  if (fd >= 0 && fd < MAXFD) fd_file[fd] = 0;
  pthread_mutex_unlock(&lock);
  errno = saved;
  return r;
}

static void copy_fd(int from, int to) {
  if (from < 0 || from >= MAXFD || to < 0 || to >= MAXFD) return;
  fd_file[to] = fd_file[from]; fd_sync[to] = fd_sync[from]; fd_append[to] = fd_append[from];
}
int dup(int fd) { pthread_mutex_lock(&lock); int r = real_dup(fd); int e = errno; copy_fd(fd, r); pthread_mutex_unlock(&lock); errno = e; return r; }
int dup2(int a, int b) { pthread_mutex_lock(&lock); int r = real_dup2(a, b); int e = errno; if (r >= 0) copy_fd(a, b); pthread_mutex_unlock(&lock); errno = e; return r; }
int dup3(int a, int b, int f) { pthread_mutex_lock(&lock); int r = real_dup3(a, b, f); int e = errno; if (r >= 0) copy_fd(a, b); pthread_mutex_unlock(&lock); errno = e; return r; }

static uint32_t wtype(int fd) { return fd_sync[fd] ? J_WRITE_SYNC : J_WRITE; }

/* Writes at the current offset (write, writev): the offset is read before the call. */
static ssize_t cur_write(int fd, const struct iovec* iov, int n, ssize_t (*op)(int, const struct iovec*, int)) {
  if (!tracked(fd)) return op(fd, iov, n);
  pthread_mutex_lock(&lock);
  off_t pos;
  if (fd_append[fd]) { struct stat st; pos = fstat(fd, &st) == 0 ? st.st_size : 0; }
  else pos = lseek(fd, 0, SEEK_CUR);
  ssize_t r = op(fd, iov, n);
  int e = errno;
  if (r > 0) emit(wtype(fd), (uint32_t)fd_file[fd], (uint64_t)pos, iov, n, (uint64_t)r);
  pthread_mutex_unlock(&lock);
  errno = e;
  return r;
}
static ssize_t write_as_v(int fd, const struct iovec* iov, int n) { (void)n; return real_write(fd, iov[0].iov_base, iov[0].iov_len); }
ssize_t write(int fd, const void* buf, size_t len) {
  struct iovec v = {(void*)buf, len};
  if (!tracked(fd)) return real_write(fd, buf, len);
  return cur_write(fd, &v, 1, write_as_v);
}
ssize_t writev(int fd, const struct iovec* iov, int n) { return cur_write(fd, iov, n, real_writev); }

#define PWRITE_BODY(call, iov, n)                                                   \
  if (!tracked(fd)) return call;                                                     \
  pthread_mutex_lock(&lock);                                                         \
  ssize_t r = call;                                                                  \
  int e = errno;                                                                     \
  if (r > 0) emit(wtype(fd), (uint32_t)fd_file[fd], (uint64_t)off, iov, n, (uint64_t)r); \
  pthread_mutex_unlock(&lock);                                                       \
  errno = e;                                                                         \
  return r;

ssize_t pwrite(int fd, const void* buf, size_t len, off_t off) {
  struct iovec v = {(void*)buf, len};
  PWRITE_BODY(real_pwrite(fd, buf, len, off), &v, 1)
}
ssize_t pwrite64(int fd, const void* buf, size_t len, off_t off) {
  struct iovec v = {(void*)buf, len};
  PWRITE_BODY(real_pwrite64(fd, buf, len, off), &v, 1)
}
ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) { PWRITE_BODY(real_pwritev(fd, iov, n, off), iov, n) }
ssize_t pwritev64(int fd, const struct iovec* iov, int n, off_t off) { PWRITE_BODY(real_pwritev64(fd, iov, n, off), iov, n) }
ssize_t pwritev2(int fd, const struct iovec* iov, int n, off_t off, int flags) {
  /* RWF_DSYNC / RWF_SYNC make this one write durable, like an O_DSYNC descriptor. */
  if (!tracked(fd)) return real_pwritev2(fd, iov, n, off, flags);
  pthread_mutex_lock(&lock);
  off_t pos = off == -1 ? lseek(fd, 0, SEEK_CUR) : off;
  ssize_t r = real_pwritev2(fd, iov, n, off, flags);
  int e = errno;
  uint32_t t = (flags & (RWF_DSYNC | RWF_SYNC)) ? J_WRITE_SYNC : wtype(fd);
  if (r > 0) emit(t, (uint32_t)fd_file[fd], (uint64_t)pos, iov, n, (uint64_t)r);
  pthread_mutex_unlock(&lock);
  errno = e;
  return r;
}

#define SIMPLE_BODY(call, type, offset)                                       \
  if (!tracked(fd)) return call;                                               \
  pthread_mutex_lock(&lock);                                                   \
  int r = call;                                                                \
  int e = errno;                                                               \
  if (r == 0) emit(type, (uint32_t)fd_file[fd], (uint64_t)(offset), NULL, 0, 0); \
  pthread_mutex_unlock(&lock);                                                 \
  errno = e;                                                                   \
  return r;

int ftruncate(int fd, off_t len) { SIMPLE_BODY(real_ftruncate(fd, len), J_TRUNCATE, len) }
int ftruncate64(int fd, off_t len) { SIMPLE_BODY(real_ftruncate64(fd, len), J_TRUNCATE, len) }
int fsync(int fd) { SIMPLE_BODY(real_fsync(fd), J_FSYNC, 0) }
int fdatasync(int fd) { SIMPLE_BODY(real_fdatasync(fd), J_FDATASYNC, 0) }
int sync_file_range(int fd, off_t off, off_t n, unsigned int flags) {
  SIMPLE_BODY(real_sync_file_range(fd, off, n, flags), J_SYNC_FILE_RANGE, off)
}
int syncfs(int fd) {
  pthread_mutex_lock(&lock);
  int r = real_syncfs(fd);
  int e = errno;
  if (r == 0) emit(J_SYNC_ALL, 0, 0, NULL, 0, 0);
  pthread_mutex_unlock(&lock);
  errno = e;
  return r;
}
void sync(void) {
  pthread_mutex_lock(&lock);
  real_sync();
  emit(J_SYNC_ALL, 0, 0, NULL, 0, 0);
  pthread_mutex_unlock(&lock);
}
int msync(void* addr, size_t len, int flags) {
  pthread_mutex_lock(&lock);
  int r = real_msync(addr, len, flags);
  int e = errno;
  if (r == 0) emit(J_MSYNC, 0, (uint64_t)(uintptr_t)addr, NULL, 0, 0);
  pthread_mutex_unlock(&lock);
  errno = e;
  return r;
}
