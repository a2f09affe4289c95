// BdatReader: exact chunk sizes, binary octets, size limit (RFC 3030).
#include <gtest/gtest.h>

#include <string>

#include "mta/smtp/BdatReader.hpp"

using namespace ferry::smtp;

TEST(smtp_BdatReader, TakesExactlyTheChunk) {
  std::string body;
  BdatReader r(body, 0);
  r.begin_chunk(5);
  EXPECT_EQ(r.consume("ab\r\n.\r\nQUIT"), 5u);
  EXPECT_TRUE(r.chunk_done());
  EXPECT_EQ(body, "ab\r\n.");  // no unstuffing, no end-of-data detection
  r.begin_chunk(3);
  EXPECT_EQ(r.consume("x"), 1u);
  EXPECT_FALSE(r.chunk_done());
  EXPECT_EQ(r.consume("yzQ"), 2u);
  EXPECT_EQ(body, "ab\r\n.xyz");
  EXPECT_EQ(r.size(), 8u);
}

TEST(smtp_BdatReader, ZeroChunkIsDoneAtOnce) {
  std::string body;
  BdatReader r(body, 0);
  r.begin_chunk(0);
  EXPECT_TRUE(r.chunk_done());
}

TEST(smtp_BdatReader, SizeLimitDiscardsButConsumes) {
  std::string body = "Received: x\r\n";
  BdatReader r(body, 10);
  r.begin_chunk(8);
  EXPECT_EQ(r.consume("12345678"), 8u);
  EXPECT_FALSE(r.too_big());
  r.begin_chunk(8);
  EXPECT_TRUE(r.too_big());
  EXPECT_EQ(r.consume("abcdefgh"), 8u);
  EXPECT_TRUE(r.chunk_done());
  EXPECT_EQ(body, "Received: x\r\n");  // back to what was there before
}

TEST(smtp_BdatReader, DiscardMode) {
  std::string body;
  BdatReader r(body, 0);
  r.begin_chunk(4, false);
  EXPECT_EQ(r.consume("abcdef"), 4u);
  EXPECT_TRUE(body.empty());
}

// After a non-empty chunk, a chunk size near UINT64_MAX (the parser saturates absurd counts)
// must not wrap `stored + octets` below the limit: the data is refused, never stored.
TEST(smtp_BdatReader, SaturatedChunkSizeAfterDataIsTooBig) {
  std::string body;
  BdatReader r(body, 1000);
  r.begin_chunk(1);
  EXPECT_EQ(r.consume("x"), 1u);
  r.begin_chunk(UINT64_MAX);
  EXPECT_TRUE(r.too_big());
  const std::string block(4096, 'y');
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.consume(block), block.size());
  EXPECT_TRUE(body.empty());
  EXPECT_LE(body.capacity(), 64u);  // nothing reserved for the announced size
}

TEST(smtp_BdatReader, AnnouncedSizeIsNeverReserved) {
  std::string body;
  BdatReader r(body, 0);
  r.begin_chunk(32u << 20);
  EXPECT_LT(body.capacity(), 1024u);
  EXPECT_EQ(r.consume("abc"), 3u);
  EXPECT_EQ(body, "abc");
}
