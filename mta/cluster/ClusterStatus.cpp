// ClusterStatus: see ClusterStatus.hpp.
#include "mta/cluster/ClusterStatus.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ferry::cluster {
namespace {

constexpr std::size_t kMaxPassword = 4096;

// The node names behind the heartbeat keys, SCANned (never KEYS: it blocks Redis).
Result<std::vector<std::string>> scan_nodes(RedisConnection& conn) {
  std::vector<std::string> names;
  std::string cursor = "0";
  for (int i = 0; i < kMaxScans; ++i) {
    auto r = conn.command({"SCAN", cursor, "MATCH", std::string(kNodeKeyPrefix) + "*", "COUNT", "100"});
    if (!r) return r.error();
    if (r->type != ReplyType::Array || r->elements.size() != 2 || r->elements[1].type != ReplyType::Array)
      return make_error(ErrorKind::Invalid, "unexpected SCAN reply");
    for (const auto& k : r->elements[1].elements)
      if (k.text.rfind(kNodeKeyPrefix, 0) == 0 && names.size() < kMaxNodes)
        names.push_back(k.text.substr(std::strlen(kNodeKeyPrefix)));
    cursor = r->elements[0].text;
    if (cursor == "0") break;
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

Result<ClusterView> read_cluster(const config::ClusterSection& cluster, const std::string& password,
                                 std::chrono::milliseconds timeout) {
  auto conn = RedisConnection::connect(cluster.endpoint, password, timeout);
  if (!conn) return conn.error();
  ClusterView view;
  const auto start = std::chrono::steady_clock::now();
  auto pong = (*conn)->command({"PING"});
  if (!pong) return pong.error();
  view.latency_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto names = scan_nodes(**conn);
  if (!names) return names.error();
  for (const auto& name : *names) {
    auto h = (*conn)->command({"HGETALL", node_key(name)});
    if (!h) return h.error();
    // A key expired between SCAN and HGETALL reads as an empty array: that node is gone.
    if (auto rec = decode_node(name, *h)) view.nodes.push_back(std::move(*rec));
  }
  return view;
}

Result<Reply> run_command(const config::ClusterSection& cluster, const std::string& password,
                          const Argv& argv, std::chrono::milliseconds timeout) {
  auto conn = RedisConnection::connect(cluster.endpoint, password, timeout);
  if (!conn) return conn.error();
  auto r = (*conn)->command(argv);
  if (!r) return r.error();
  if (r->is_error())
    return make_error(ErrorKind::Invalid,
                      (argv.empty() ? std::string() : argv[0]) + " refused: " + r->text.substr(0, 200));
  return std::move(*r);
}

Result<std::string> read_redis_password(const std::string& path) {
  // O_NONBLOCK: a FIFO put there must not hang the start; only a regular file is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorKind::Io, "cannot open password_file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::Invalid, "password_file " + path + " is not a regular file");
  }
  if (st.st_mode & (S_IROTH | S_IWOTH)) {
    ::close(fd);
    return make_error(ErrorKind::Invalid, "password_file " + path + " is readable by others (chmod o-rw)");
  }
  std::string data(kMaxPassword + 1, '\0');
  const ssize_t n = ::read(fd, data.data(), data.size());
  ::close(fd);
  if (n < 0) return make_error(ErrorKind::Io, "cannot read password_file " + path);
  data.resize(static_cast<std::size_t>(n));
  if (data.size() > kMaxPassword)
    return make_error(ErrorKind::Invalid, "password_file " + path + " is over 4 KiB");
  data = data.substr(0, data.find_first_of("\r\n"));
  if (data.empty()) return make_error(ErrorKind::Invalid, "password_file " + path + " is empty");
  return data;
}

}  // namespace ferry::cluster
