// ReplyCategory table tests: every real-world reply in data/replies.tsv gets its expected category.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mta/delivery/ReplyCategory.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {

struct RealReply {
  int line = 0;
  std::string category;
  Reply reply;
  std::string source;
};

EnhancedStatus parse(const std::string& s) {
  EnhancedStatus st;
  if (s == "-") return st;
  unsigned k = 0, a = 0, b = 0;
  if (std::sscanf(s.c_str(), "%u.%u.%u", &k, &a, &b) == 3)
    st = {static_cast<std::uint8_t>(k), static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)};
  return st;
}

std::vector<RealReply> load() {
  std::vector<RealReply> out;
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/unit/delivery/data/replies.tsv");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() != 5) {
      ADD_FAILURE() << "replies.tsv:" << n << ": expected 5 TAB-separated columns";
      continue;
    }
    out.push_back({n, cols[0], Reply{std::stoi(cols[1]), parse(cols[2]), cols[3]}, cols[4]});
  }
  return out;
}

void PrintTo(const RealReply& r, std::ostream* os) { *os << "replies.tsv:" << r.line; }

const std::vector<RealReply>& replies() {
  static const std::vector<RealReply> all = load();
  return all;
}

}  // namespace

class RealReplies : public ::testing::TestWithParam<RealReply> {};

TEST_P(RealReplies, HaveTheExpectedCategory) {
  const auto& r = GetParam();
  const auto got = classify_reply_category(r.reply);
  EXPECT_EQ(got.category, r.category)
      << "replies.tsv:" << r.line << ": " << r.reply.code << " " << r.reply.status.str() << " "
      << r.reply.text << "  [" << r.source << "]";
  EXPECT_FALSE(got.advice.empty());
}

INSTANTIATE_TEST_SUITE_P(categoryReal, RealReplies, ::testing::ValuesIn(replies()),
                         [](const auto& info) { return "line" + std::to_string(info.param.line); });

TEST(categoryTable, HasAtLeast150RealRepliesWithSources) {
  ASSERT_GE(replies().size(), 150u);
  std::set<std::string> categories;
  for (const auto& r : replies()) {
    EXPECT_FALSE(r.source.empty()) << r.line;
    categories.insert(r.category);
  }
  // every category except the ones only local failures produce is exercised by a real reply
  for (auto c : reply_categories()) EXPECT_TRUE(categories.count(std::string(c))) << c;
}

TEST(categoryTable, EveryRuleNamesAKnownCategoryWithAdvice) {
  std::set<std::string_view> known(reply_categories().begin(), reply_categories().end());
  EXPECT_EQ(known.size(), 21u);
  for (const auto& r : table::text_rules) {
    EXPECT_TRUE(known.count(r.category)) << r.category;
    EXPECT_EQ(r.needles.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string_view::npos) << r.needles;
    EXPECT_EQ(r.needles.find("||"), std::string_view::npos) << r.needles;
  }
  for (const auto& r : table::status_rules) EXPECT_TRUE(known.count(r.category));
  for (const auto& r : table::code_rules) EXPECT_TRUE(known.count(r.category));
  for (auto c : known) EXPECT_FALSE(category_advice(c).empty()) << c;
  EXPECT_TRUE(category_advice("no_such_category").empty());
}
