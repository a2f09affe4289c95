// RedisReply: one Redis reply as plain data (nil, integer, string, array, error, status), copied
// out of hiredis's tree. Contract: a reply is untrusted input — conversion refuses trees deeper
// than kMaxDepth, with more than kMaxElements elements in all or more than kMaxBytes of strings.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ferry/Result.hpp"

struct redisReply;

namespace ferry::cluster {

enum class ReplyType { Nil, Integer, String, Array, Error, Status };

struct Reply {
  ReplyType type = ReplyType::Nil;
  long long integer = 0;
  std::string text;  // String, Error, Status
  std::vector<Reply> elements;
  bool operator==(const Reply&) const = default;

  bool is_error() const { return type == ReplyType::Error; }
};

inline constexpr int kMaxDepth = 8;  // XREAD nests five deep
inline constexpr std::size_t kMaxElements = 100'000;
inline constexpr std::size_t kMaxBytes = 8u << 20;

// The tree under `r`, bounded; a null `r` (hiredis's I/O failure) is an error of kind Io.
Result<Reply> convert_reply(const redisReply* r);

}  // namespace ferry::cluster
