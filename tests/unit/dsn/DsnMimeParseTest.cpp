// A real MIME parser reads every golden report: Python's email package (policy.default) via
// parse_dsn.py, whose JSON (structure, per-message and per-recipient fields, rule problems) is
// compared with tests/golden/dsn/<case>.json. Skipped when python3 is not in PATH.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "unit/dsn/DsnCases.hpp"

using namespace ferry;
using namespace ferry::dsn;
using namespace ferry::dsn::test;

namespace {

bool have_python() { return std::system("command -v python3 >/dev/null 2>&1") == 0; }

std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The parser's JSON for `body`, written to a temp file first.
std::string parse(const std::string& name, const std::string& body) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("ferry-dsn-" + name + "-" + std::to_string(::getpid()) + ".eml");
  std::ofstream(path, std::ios::binary) << body;
  const std::string json = run("python3 '" + std::string(FERRY_SOURCE_DIR) +
                               "/tests/unit/dsn/parse_dsn.py' '" + path.string() + "' 2>&1");
  std::filesystem::remove(path);
  return json;
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
  return n;
}

class dsnMimeParse : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(dsnMimeParse, PythonEmailReadsTheStructure) {
  if (!have_python()) GTEST_SKIP() << "python3 not in PATH";
  const Case& c = GetParam();
  ASSERT_TRUE(c.dsn.has_value());
  const std::string json = parse(c.name, c.dsn->body);
  EXPECT_NE(json.find("\"problems\": []"), std::string::npos) << json;

  const std::string path = std::string(FERRY_SOURCE_DIR) + "/tests/golden/dsn/" + c.name + ".json";
  const char* update = std::getenv("FERRY_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << json;
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(json, slurp(path)) << c.name << ": parsed structure differs from " << path;
}

INSTANTIATE_TEST_SUITE_P(dsn, dsnMimeParse, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Field-level checks on the parser's view, independent of the golden JSON.
TEST(dsnMimeParseFields, FailedReportHasEveryField) {
  if (!have_python()) GTEST_SKIP() << "python3 not in PATH";
  const Case c = case_failed();
  const std::string j = parse(c.name, c.dsn->body);
  EXPECT_NE(j.find("\"report_type\": \"delivery-status\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"content_type\": \"message/delivery-status\""), std::string::npos);
  EXPECT_NE(j.find("\"content_type\": \"text/rfc822-headers\""), std::string::npos);
  EXPECT_NE(j.find("\"Reporting-MTA\": \"dns; mx.ferry.test\""), std::string::npos);
  EXPECT_NE(j.find("\"Arrival-Date\": \"Thu, 01 Feb 2024 10:00:00 +0000\""), std::string::npos);
  EXPECT_NE(j.find("\"Received-From-MTA\": \"dns; client.example.org (198.51.100.7)\""), std::string::npos);
  EXPECT_NE(j.find("\"X-Ferry-Queue-ID\": \"01HQ7Z3ABCDEF\""), std::string::npos);
  EXPECT_EQ(j.find("Original-Envelope-Id"), std::string::npos);
  EXPECT_EQ(j.find("Original-Recipient"), std::string::npos);
  EXPECT_EQ(count(j, "\"Action\": \"failed\""), 2u);
  EXPECT_NE(j.find("\"Final-Recipient\": \"rfc822; bob@example.com\""), std::string::npos);
  EXPECT_NE(j.find("\"Status\": \"5.1.1\""), std::string::npos);
  EXPECT_NE(j.find("\"Status\": \"5.1.10\""), std::string::npos);
  EXPECT_EQ(count(j, "\"Remote-MTA\""), 1u);  // Carol's null MX involved no remote MTA
  EXPECT_NE(
      j.find("\"Diagnostic-Code\": \"smtp; 550 5.1.1 The email account that you tried to reach does not "
             "exist. Please try double-checking the recipient's email address for typos or unnecessary "
             "spaces.\""),
      std::string::npos);
  EXPECT_EQ(j.find("Will-Retry-Until"), std::string::npos);
  EXPECT_NE(j.find("\"In-Reply-To\": \"<20240201095958.4711@client.example.org>\""), std::string::npos);
  EXPECT_NE(j.find("\"To\": \"alice@example.org\""), std::string::npos);
}

TEST(dsnMimeParseFields, EnvidOrcptAndGlobalTypes) {
  if (!have_python()) GTEST_SKIP() << "python3 not in PATH";
  const Case e = case_envid_orcpt();
  const std::string j = parse(e.name, e.dsn->body);
  EXPECT_NE(j.find("\"Original-Envelope-Id\": \"QQ314159\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"Original-Recipient\": \"rfc822; Bob+sales@Example.COM\""), std::string::npos);
  EXPECT_EQ(count(j, "\"Final-Recipient\""), 1u);  // Carol asked NOTIFY=NEVER

  const Case u = case_smtputf8();
  const std::string k = parse(u.name, u.dsn->body);
  EXPECT_NE(k.find("\"report_type\": \"global-delivery-status\""), std::string::npos) << k;
  EXPECT_NE(k.find("\"content_type\": \"message/global-headers\""), std::string::npos);
  EXPECT_NE(k.find("\"Final-Recipient\": \"utf-8; 用户@example.net\""), std::string::npos);
  EXPECT_NE(k.find("\"Subject\": \"Grüße aus Köln\""), std::string::npos);

  const Case d = case_delayed();
  const std::string l = parse(d.name, d.dsn->body);
  EXPECT_NE(l.find("\"Will-Retry-Until\": \"Tue, 06 Feb 2024 11:00:00 +0100\""), std::string::npos) << l;
  EXPECT_NE(l.find("\"Action\": \"delayed\""), std::string::npos);
}
