// Golden files: every kind of report, byte for byte (tests/golden/dsn/README.md).
// FERRY_UPDATE_GOLDEN=1 rewrites the files instead of comparing; review the diff before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "unit/dsn/DsnCases.hpp"

using namespace ferry;
using namespace ferry::dsn;
using namespace ferry::dsn::test;

namespace {

std::string golden_path(const std::string& name) {
  return std::string(FERRY_SOURCE_DIR) + "/tests/golden/dsn/" + name + ".eml";
}

bool updating() {
  const char* v = std::getenv("FERRY_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class dsnGolden : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(dsnGolden, MatchesFile) {
  const Case& c = GetParam();
  ASSERT_TRUE(c.dsn.has_value()) << c.name << ": no report composed";
  const std::string path = golden_path(c.name);
  if (updating()) {
    std::ofstream(path, std::ios::binary) << c.dsn->body;
    GTEST_SKIP() << "rewrote " << path;
  }
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing: run with FERRY_UPDATE_GOLDEN=1";
  EXPECT_EQ(c.dsn->body, expected) << c.name << " differs from " << path;
}

TEST_P(dsnGolden, LinesAreCrlfAndShort) {
  const Case& c = GetParam();
  ASSERT_TRUE(c.dsn.has_value());
  const std::string& b = c.dsn->body;
  std::size_t start = 0;
  while (start < b.size()) {
    const std::size_t crlf = b.find("\r\n", start);
    ASSERT_NE(crlf, std::string::npos) << c.name << ": last line lacks CRLF";
    const std::string_view line(b.data() + start, crlf - start);
    EXPECT_LE(line.size(), 998u) << c.name << ": line at offset " << start;
    EXPECT_EQ(line.find('\r'), std::string_view::npos) << c.name << ": bare CR at offset " << start;
    EXPECT_EQ(line.find('\n'), std::string_view::npos) << c.name << ": bare LF at offset " << start;
    start = crlf + 2;
  }
}

INSTANTIATE_TEST_SUITE_P(dsn, dsnGolden, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });
