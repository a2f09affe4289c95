// PasswordFile: parsing `user:HASH` lines and crypt(3) verification (sha512-crypt, yescrypt).
#include <gtest/gtest.h>

#include <string>

#include "mta/inbound/PasswordFile.hpp"

namespace ferry::inbound {
namespace {

// `openssl passwd -6 -salt abc pw` and libcrypt's yescrypt of "pw" (fixed salts).
const std::string kSha512 =
    "$6$abc$MtSdWSZbhct2oe.SOqOUM2M/GA/uj5.vyVtJgRHgKi9uqXuWuJqOYE7H/YlsYGVg/YYzDV0xt3fEIwYt580.5.";
const std::string kYescrypt = "$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED";

TEST(PasswordFile, VerifiesSha512AndYescrypt) {
  auto file = PasswordFile::parse("# users\nalice:" + kSha512 + "\r\n\nyuri:" + kYescrypt + "\n", "passwd");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->verify("alice", "pw"));
  EXPECT_FALSE(file->verify("alice", "pW"));
  EXPECT_FALSE(file->verify("alice", ""));
  EXPECT_FALSE(file->verify("nobody", "pw"));
  EXPECT_TRUE(file->verify("yuri", "pw"));
  EXPECT_FALSE(file->verify("yuri", "px"));
}

TEST(PasswordFile, EmbeddedNulNeverMatchesThePrefix) {
  auto file = PasswordFile::parse("alice:" + kSha512 + "\n", "passwd");
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->verify("alice", std::string("pw\0junk", 7)));
}

TEST(PasswordFile, RejectsMalformedLines) {
  auto bad = PasswordFile::parse("alice\n", "passwd");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("passwd:1"), std::string::npos);
  EXPECT_FALSE(PasswordFile::parse("alice:\n", "passwd"));
  EXPECT_FALSE(PasswordFile::parse(":hash\n", "passwd"));
}

}  // namespace
}  // namespace ferry::inbound
