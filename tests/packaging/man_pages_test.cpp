// Man pages: ferry(8) and ferry.toml(5) are lint-clean for mandoc and man-db, ferry.toml(5)
// lists exactly the keys of the commented conf/ferry.toml, ferry(8) every subcommand and exit code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "integration/support/Subprocess.hpp"
#include "packaging/ConfKeys.hpp"

namespace ferry {
namespace {

const std::string kFerryPage = std::string(FERRY_SOURCE_DIR) + "/man/man8/ferry.8";
const std::string kTomlPage = std::string(FERRY_SOURCE_DIR) + "/man/man5/ferry.toml.5";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string describe(const test::KeySet& keys) {
  std::string out;
  for (const auto& [table, key] : keys) out += " [" + table + "] " + key + ";";
  return out;
}

struct ExtractCase {
  const char* name;
  const char* toml;
  test::KeySet expected;
};

// gtest prints a parameter by its name, not as raw bytes.
void PrintTo(const ExtractCase& c, std::ostream* os) { *os << c.name; }

class ConfKeyExtraction : public ::testing::TestWithParam<ExtractCase> {};

TEST_P(ConfKeyExtraction, FindsTheDocumentedKeys) {
  EXPECT_EQ(test::conf_keys(GetParam().toml), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    ManPageKeys, ConfKeyExtraction,
    ::testing::Values(
        ExtractCase{"top_level_and_table",
                    "# The name.\nhostname = \"\"\n\n[queue]\n# Where.\npath = \"q\"\nsync = true\n",
                    {{"", "hostname"}, {"queue", "path"}, {"queue", "sync"}}},
        ExtractCase{"array_documented_before_its_example_header",
                    "# Routes. Default: none.\n#   domain = \"x\", or \"*\".\n#   host   = the host.\n"
                    "# Example:\n#   [[route]]\n#   domain = \"*\"\n#   sample = 1\n",
                    {{"route", "domain"}, {"route", "host"}}},
        ExtractCase{"commented_out_table",
                    "# [cluster]: several nodes.\n# [cluster]\n# redis = \"redis://\"  # or unix\n"
                    "# timeout = \"50ms\"\n",
                    {{"cluster", "redis"}, {"cluster", "timeout"}}},
        ExtractCase{"documented_array_followed_by_its_header",
                    "# Listeners.\n#   address = IP address to bind.\n[[listen]]\naddress = \"127.0.0.1\"\n",
                    {{"listen", "address"}}},
        ExtractCase{"example_entries_are_not_keys",
                    "# Aliases: local part = address. Default: none.\n# Example:\n#   root = \"a@b\"\n"
                    "[aliases]\n",
                    {}},
        ExtractCase{"prose_with_an_equals_sign_is_not_a_key",
                    "[auth]\n# Also offer AUTH on mode = \"relay\" listeners. Default \"\" = off.\n"
                    "on_relay_listeners = false\n",
                    {{"auth", "on_relay_listeners"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ManPages, TomlPageListsExactlyTheKeysOfTheDefaultFile) {
  const auto conf = test::conf_keys(slurp(std::string(FERRY_SOURCE_DIR) + "/conf/ferry.toml"));
  const auto page = test::man_keys(slurp(kTomlPage));
  ASSERT_GT(conf.size(), 100u) << "the default file's keys were not found";
  test::KeySet missing, stale;
  for (const auto& k : conf)
    if (!page.count(k)) missing.insert(k);
  for (const auto& k : page)
    if (!conf.count(k)) stale.insert(k);
  EXPECT_TRUE(missing.empty()) << "keys of conf/ferry.toml missing from man/man5/ferry.toml.5 (add a .TP "
                                  "entry under their .SS table):"
                               << describe(missing);
  EXPECT_TRUE(stale.empty()) << "ferry.toml.5 lists keys conf/ferry.toml no longer has:" << describe(stale);
}

TEST(ManPages, FerryPageDescribesEverySubcommand) {
  auto help = test::run({FERRY_BINARY, "help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::string page = slurp(kFerryPage);
  std::istringstream in(help.out);
  int commands = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  ", 0) != 0) continue;
    std::string name = line.substr(2, line.find(' ', 2) - 2);
    std::string roff;  // a hyphen in a man page is written \-
    for (char c : name) roff += c == '-' ? std::string("\\-") : std::string(1, c);
    ++commands;
    EXPECT_NE(page.find(".TP\n.B " + roff), std::string::npos)
        << "ferry(8) has no COMMANDS entry for " << name;
    EXPECT_NE(page.find(".B ferry " + roff), std::string::npos)
        << "ferry(8) has no SYNOPSIS line for " << name;
  }
  EXPECT_GE(commands, 10) << help.out;
}

// Every exit code the CLI names (sysexits(3) constants in mta/cli) has its entry in EXIT STATUS.
TEST(ManPages, FerryPageDescribesEveryExitCode) {
  const std::string page = slurp(kFerryPage);
  const auto section = page.find(".SH EXIT STATUS");
  ASSERT_NE(section, std::string::npos);
  const std::string exit_status = page.substr(section, page.find(".SH ", section + 1) - section);
  static const std::regex constant(R"(constexpr int (kExit\w+) = ([0-9]+);)");
  int found = 0;
  for (const auto& file : std::filesystem::directory_iterator(std::string(FERRY_SOURCE_DIR) + "/mta/cli")) {
    const std::string text = slurp(file.path().string());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), constant); it != std::sregex_iterator();
         ++it) {
      ++found;
      EXPECT_NE(exit_status.find(".TP\n.B " + (*it)[2].str() + "\n"), std::string::npos)
          << "ferry(8) EXIT STATUS has no entry for " << (*it)[1] << " = " << (*it)[2] << " ("
          << file.path().filename().string() << ")";
    }
  }
  EXPECT_GE(found, 8);
}

TEST(ManPages, MandocLintFindsNoWarning) {
  for (const auto& page : {kFerryPage, kTomlPage}) {
    auto r = test::run({"/usr/bin/mandoc", "-Tlint", "-W", "warning", page});
    EXPECT_EQ(r.exit_code, 0) << page << "\n" << r.out << r.err;
    EXPECT_EQ(r.out + r.err, "") << page;
  }
}

TEST(ManPages, ManRendersWithoutWarnings) {
  for (const auto& page : {kFerryPage, kTomlPage}) {
    auto r = test::run({"/bin/sh", "-c", "MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l \"$0\"", page});
    EXPECT_EQ(r.exit_code, 0) << page << "\n" << r.err;
    EXPECT_EQ(r.err, "") << page;
    EXPECT_NE(r.out.find("NAME"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace ferry
