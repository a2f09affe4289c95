// EventSecretTest: reading a webhook's HMAC key from its secret_file.
#include "mta/outbound/EventSecret.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ferry::outbound {
namespace {

class EventSecret : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ferry-secret-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(dir + "/" + name, std::ios::binary) << content;
    return dir + "/" + name;
  }
  std::string dir;
};

TEST_F(EventSecret, Table) {
  struct Row {
    std::string content;
    bool ok;
    std::string key;
  };
  const Row rows[] = {
      {"0123456789abcdef\n", true, "0123456789abcdef"},
      {"0123456789abcdef-longer\r\nsecond line\n", true, "0123456789abcdef-longer"},
      {"0123456789abcdef", true, "0123456789abcdef"},
      {"short\n", false, ""},
      {"", false, ""},
      {std::string(4097, 'k'), false, ""},
  };
  for (const auto& r : rows) {
    const auto got = read_event_secret(write("s", r.content));
    EXPECT_EQ(static_cast<bool>(got), r.ok) << r.content.substr(0, 40);
    if (got) EXPECT_EQ(*got, r.key);
  }
}

TEST_F(EventSecret, RefusesLinksFifosAndMissingFiles) {
  const std::string real = write("real", "0123456789abcdef\n");
  ASSERT_EQ(::symlink(real.c_str(), (dir + "/link").c_str()), 0);
  EXPECT_FALSE(read_event_secret(dir + "/link"));
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  EXPECT_FALSE(read_event_secret(dir + "/fifo"));
  EXPECT_FALSE(read_event_secret(dir + "/missing"));
  const auto err = read_event_secret(dir + "/missing");
  EXPECT_EQ(err.error().message.find("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(read_event_secret(real));
}

}  // namespace
}  // namespace ferry::outbound
