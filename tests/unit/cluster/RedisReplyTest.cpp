// RedisReply: hiredis reply trees converted to plain data, bounded (replies are untrusted).
#include "mta/cluster/RedisReply.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <deque>
#include <string>
#include <vector>

namespace ferry::cluster {
namespace {

// Builds redisReply trees in memory that the test owns (no hiredis allocation).
struct Trees {
  std::deque<redisReply> nodes;
  std::deque<std::vector<redisReply*>> arrays;
  std::deque<std::string> strings;

  redisReply* scalar(int type, std::string text = "", long long integer = 0) {
    strings.push_back(std::move(text));
    redisReply r{};
    r.type = type;
    r.integer = integer;
    r.len = strings.back().size();
    r.str = strings.back().data();
    nodes.push_back(r);
    return &nodes.back();
  }
  redisReply* array(std::vector<redisReply*> elements) {
    arrays.push_back(std::move(elements));
    redisReply r{};
    r.type = REDIS_REPLY_ARRAY;
    r.elements = arrays.back().size();
    r.element = arrays.back().data();
    nodes.push_back(r);
    return &nodes.back();
  }
  redisReply* nested(int depth) {
    return depth == 0 ? scalar(REDIS_REPLY_INTEGER, "", 1) : array({nested(depth - 1)});
  }
};

struct Case {
  const char* name;
  redisReply* (*build)(Trees&);
  bool ok;
  ReplyType type;
  std::string text;
  long long integer;
  std::size_t elements;
};

TEST(clusterReply, Conversions) {
  const Case cases[] = {
      {"nil", [](Trees& t) { return t.scalar(REDIS_REPLY_NIL); }, true, ReplyType::Nil, "", 0, 0},
      {"integer", [](Trees& t) { return t.scalar(REDIS_REPLY_INTEGER, "", -42); }, true, ReplyType::Integer,
       "", -42, 0},
      {"binary string", [](Trees& t) { return t.scalar(REDIS_REPLY_STRING, std::string("a\0b\r\n", 5)); },
       true, ReplyType::String, std::string("a\0b\r\n", 5), 0, 0},
      {"status", [](Trees& t) { return t.scalar(REDIS_REPLY_STATUS, "OK"); }, true, ReplyType::Status, "OK",
       0, 0},
      {"error", [](Trees& t) { return t.scalar(REDIS_REPLY_ERROR, "ERR no"); }, true, ReplyType::Error,
       "ERR no", 0, 0},
      {"array",
       [](Trees& t) {
         return t.array({t.scalar(REDIS_REPLY_STRING, "k"), t.scalar(REDIS_REPLY_NIL)});
       },
       true, ReplyType::Array, "", 0, 2},
      {"depth at the bound", [](Trees& t) { return t.nested(kMaxDepth); }, true, ReplyType::Array, "", 0, 1},
      {"too deep", [](Trees& t) { return t.nested(kMaxDepth + 1); }, false, ReplyType::Nil, "", 0, 0},
      {"null element", [](Trees& t) { return t.array({nullptr}); }, false, ReplyType::Nil, "", 0, 0},
      {"unknown type", [](Trees& t) { return t.scalar(99); }, false, ReplyType::Nil, "", 0, 0},
      {"too many elements",
       [](Trees& t) {
         redisReply* a = t.array({t.scalar(REDIS_REPLY_NIL)});
         a->elements = kMaxElements + 1;  // announced, never read: refused before the loop
         return a;
       },
       false, ReplyType::Nil, "", 0, 0},
      {"string over the byte bound",
       [](Trees& t) {
         redisReply* s = t.scalar(REDIS_REPLY_STRING, "x");
         s->len = kMaxBytes + 1;  // announced, never read
         return s;
       },
       false, ReplyType::Nil, "", 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Trees trees;
    auto r = convert_reply(c.build(trees));
    ASSERT_EQ(r.ok(), c.ok) << (r ? "" : r.error().message);
    if (!c.ok) continue;
    EXPECT_EQ(r->type, c.type);
    EXPECT_EQ(r->text, c.text);
    EXPECT_EQ(r->integer, c.integer);
    EXPECT_EQ(r->elements.size(), c.elements);
  }
}

TEST(clusterReply, NullReplyIsIo) {
  auto r = convert_reply(nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
}

// The bounds hold for a whole tree, not per string: many strings each under the bound add up.
TEST(clusterReply, ByteBudgetIsPerTree) {
  Trees t;
  redisReply* a = t.scalar(REDIS_REPLY_STRING, "x");
  redisReply* b = t.scalar(REDIS_REPLY_STRING, "y");
  a->len = kMaxBytes / 2 + 1;  // announced lengths, refused before any read past the real one
  b->len = kMaxBytes / 2 + 1;
  t.strings[0].resize(a->len);
  a->str = t.strings[0].data();
  auto r = convert_reply(t.array({a, b}));
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace ferry::cluster
