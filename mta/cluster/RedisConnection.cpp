// RedisConnection: see RedisConnection.hpp.
#include "mta/cluster/RedisConnection.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace ferry::cluster {
namespace {

// Most a pipeline may hold: the callers send a handful; the bound keeps a bug from queueing
// unbounded writes.
constexpr std::size_t kMaxPipeline = 64;
constexpr std::size_t kMaxArgs = 1024;

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

struct ReplyFree {
  void operator()(void* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<void, ReplyFree>;

}  // namespace

Result<std::unique_ptr<RedisConnection>> RedisConnection::connect(const config::RedisEndpoint& endpoint,
                                                                  const std::string& password,
                                                                  std::chrono::milliseconds timeout) {
  const timeval tv = to_timeval(timeout);
  redisContext* ctx = endpoint.is_unix ? redisConnectUnixWithTimeout(endpoint.path.c_str(), tv)
                                       : redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv);
  if (ctx == nullptr) return make_error(ErrorKind::Unavailable, "cannot allocate a Redis context");
  std::unique_ptr<RedisConnection> conn(new RedisConnection(ctx));
  if (ctx->err) return make_error(ErrorKind::Unavailable, std::string(ctx->errstr));
  if (redisSetTimeout(ctx, tv) != REDIS_OK)
    return make_error(ErrorKind::Unavailable, "cannot set the timeout");
  if (!password.empty()) {
    auto r = conn->command({"AUTH", password});
    if (!r) return r.error();
    // The server's words only: the password is never part of a message.
    if (r->is_error()) return make_error(ErrorKind::Invalid, "AUTH refused: " + r->text.substr(0, 200));
  }
  if (endpoint.db != 0) {
    auto r = conn->command({"SELECT", std::to_string(endpoint.db)});
    if (!r) return r.error();
    if (r->is_error()) return make_error(ErrorKind::Invalid, "SELECT refused: " + r->text.substr(0, 200));
  }
  return conn;
}

RedisConnection::~RedisConnection() { redisFree(ctx_); }

Error RedisConnection::io_error(const char* what) {
  broken_ = true;
  return make_error(ErrorKind::Unavailable,
                    std::string(what) + ": " + (ctx_->err ? ctx_->errstr : "no reply"));
}

Result<Reply> RedisConnection::command(const Argv& argv) {
  auto replies = pipeline({argv});
  if (!replies) return replies.error();
  return std::move(replies->front());
}

Result<std::vector<Reply>> RedisConnection::pipeline(const std::vector<Argv>& commands) {
  if (broken_) return make_error(ErrorKind::Unavailable, "connection broken");
  if (commands.empty() || commands.size() > kMaxPipeline)
    return make_error(ErrorKind::Invalid, "a pipeline holds 1 to 64 commands");
  for (const Argv& argv : commands) {
    if (argv.empty() || argv.size() > kMaxArgs) return make_error(ErrorKind::Invalid, "bad command size");
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) ptrs.push_back(a.data()), lens.push_back(a.size());
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()) != REDIS_OK)
      return io_error("write");
  }
  std::vector<Reply> out;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) return io_error("read");
    ReplyPtr held(raw);
    auto r = convert_reply(static_cast<const redisReply*>(raw));
    if (!r) {
      // The stream is no longer trusted: the rest of its replies could be misread.
      broken_ = true;
      return r.error();
    }
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace ferry::cluster
