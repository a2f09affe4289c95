// RedisConnection: one synchronous hiredis connection — connect with a timeout, AUTH and SELECT,
// then commands as binary-safe argv vectors (alone or pipelined).
// Contract: every call returns within the timeout given to connect() (hiredis's socket timeout);
// after any I/O error the connection is broken() and must be replaced. Not thread-safe: one
// owner (the link's thread, or the CLI).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/cluster/RedisReply.hpp"
#include "mta/config/RedisUrl.hpp"

struct redisContext;

namespace ferry::cluster {

using Argv = std::vector<std::string>;

class RedisConnection {
 public:
  // Connects, authenticates (when `password` is not empty) and selects the endpoint's database.
  static Result<std::unique_ptr<RedisConnection>> connect(const config::RedisEndpoint& endpoint,
                                                          const std::string& password,
                                                          std::chrono::milliseconds timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command. A Redis error reply is a Reply of type Error, not a failure; failures are I/O.
  Result<Reply> command(const Argv& argv);
  // Several commands written at once, their replies in order (MULTI ... EXEC for atomicity).
  Result<std::vector<Reply>> pipeline(const std::vector<Argv>& commands);
  bool broken() const { return broken_; }

 private:
  explicit RedisConnection(redisContext* ctx) : ctx_(ctx) {}
  Error io_error(const char* what);
  redisContext* ctx_;
  bool broken_ = false;
};

}  // namespace ferry::cluster
