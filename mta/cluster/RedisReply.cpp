// RedisReply: see RedisReply.hpp.
#include "mta/cluster/RedisReply.hpp"

#include <hiredis/hiredis.h>

namespace ferry::cluster {
namespace {

struct Budget {
  std::size_t elements = 0;
  std::size_t bytes = 0;
};

Result<Reply> convert(const redisReply* r, int depth, Budget& budget) {
  if (r == nullptr) return make_error(ErrorKind::Invalid, "a null element in a Redis reply");
  if (depth > kMaxDepth) return make_error(ErrorKind::Invalid, "Redis reply nested too deeply");
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_NIL:
      return out;
    case REDIS_REPLY_INTEGER:
      out.type = ReplyType::Integer;
      out.integer = r->integer;
      return out;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r->type == REDIS_REPLY_STRING   ? ReplyType::String
                 : r->type == REDIS_REPLY_STATUS ? ReplyType::Status
                                                 : ReplyType::Error;
      if (r->len > kMaxBytes - budget.bytes) return make_error(ErrorKind::Invalid, "Redis reply too large");
      budget.bytes += r->len;
      if (r->len > 0 && r->str == nullptr)
        return make_error(ErrorKind::Invalid, "Redis reply string missing");
      out.text.assign(r->str ? r->str : "", r->len);
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = ReplyType::Array;
      if (r->elements > kMaxElements - budget.elements)
        return make_error(ErrorKind::Invalid, "Redis reply has too many elements");
      budget.elements += r->elements;
      if (r->elements > 0 && r->element == nullptr)
        return make_error(ErrorKind::Invalid, "Redis reply elements missing");
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        auto e = convert(r->element[i], depth + 1, budget);
        if (!e) return e;
        out.elements.push_back(std::move(*e));
      }
      return out;
    default:
      return make_error(ErrorKind::Invalid, "unknown Redis reply type " + std::to_string(r->type));
  }
}

}  // namespace

Result<Reply> convert_reply(const redisReply* r) {
  if (r == nullptr) return make_error(ErrorKind::Io, "no reply from Redis");
  Budget budget;
  return convert(r, 0, budget);
}

}  // namespace ferry::cluster
