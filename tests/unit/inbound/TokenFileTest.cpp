// The [[http]] token file: parsing, labels, constant-time matching and the file checks
// (private, regular, no symlink).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mta/inbound/TokenFile.hpp"

namespace ferry::inbound {
namespace {

const std::string kA = "abcdefghijklmnop0123";
const std::string kB = "QUJDREVGR0hJSktMTU5PUA==";

TEST(TokenFile, ParsesTokensCommentsAndBlankLines) {
  auto f = TokenFile::parse("# apps\n\n" + kA + "\r\n  " + kB + "  \n# end\n", "t");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->size(), 2u);
  EXPECT_EQ(f->match(kA), "line 3");
  EXPECT_EQ(f->match(kB), "line 4");
  EXPECT_EQ(f->match(kA + "x"), std::nullopt);
  EXPECT_EQ(f->match(kA.substr(0, 19)), std::nullopt);
  EXPECT_EQ(f->match(""), std::nullopt);
  EXPECT_EQ(f->match("# apps"), std::nullopt);
}

TEST(TokenFile, RefusesBadFilesWithoutQuotingTokens) {
  const std::string bad[] = {
      "",  // no token
      "# only a comment\n",
      "short\n",  // under 16 characters
      "has space in it 0123456789\n",
      "abcdefghijklmnop=0123\n",  // '=' only as trailing padding
      std::string(513, 'a') + "\n",
      kA + "\n" + kA + "\n",  // duplicate
  };
  for (const auto& text : bad) {
    auto f = TokenFile::parse(text, "tokens");
    ASSERT_FALSE(f) << text;
    EXPECT_EQ(f.error().message.find("has space"), std::string::npos) << "the error quotes a token";
  }
}

class TokenFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-tokens-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/tokens") << kA << "\n";
  }
  void TearDown() override {
    std::remove((dir_ + "/link").c_str());
    std::remove((dir_ + "/tokens").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(TokenFileOnDisk, PrivateFileLoads) {
  ASSERT_EQ(chmod((dir_ + "/tokens").c_str(), 0600), 0);
  auto f = TokenFile::load(dir_ + "/tokens");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->match(kA), "line 1");
  ASSERT_EQ(chmod((dir_ + "/tokens").c_str(), 0640), 0);  // the service's group may read it
  EXPECT_TRUE(TokenFile::load(dir_ + "/tokens"));
}

TEST_F(TokenFileOnDisk, FilesOthersMayReadOrWriteAreRefused) {
  for (mode_t mode : {0644, 0602, 0660}) {
    ASSERT_EQ(chmod((dir_ + "/tokens").c_str(), mode), 0);
    auto f = TokenFile::load(dir_ + "/tokens");
    ASSERT_FALSE(f) << std::oct << mode;
    EXPECT_EQ(f.error().kind, ErrorKind::Security);
  }
}

TEST_F(TokenFileOnDisk, SymlinkIsNotFollowed) {
  ASSERT_EQ(chmod((dir_ + "/tokens").c_str(), 0600), 0);
  ASSERT_EQ(symlink((dir_ + "/tokens").c_str(), (dir_ + "/link").c_str()), 0);
  EXPECT_FALSE(TokenFile::load(dir_ + "/link"));
  EXPECT_FALSE(TokenFile::load(dir_));  // a directory
  EXPECT_FALSE(TokenFile::load(dir_ + "/absent"));
}

}  // namespace
}  // namespace ferry::inbound
