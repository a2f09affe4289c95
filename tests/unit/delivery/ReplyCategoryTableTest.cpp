// ReplyCategory table tests: every real-world reply in data/replies.tsv gets its expected category.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "mta/delivery/NeedleMatcher.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "tests/support/ReplyCorpus.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {

using test::CorpusRow;

const test::Corpus& corpus() {
  static const test::Corpus c =
      test::load_reply_corpus(std::string(FERRY_SOURCE_DIR) + "/tests/unit/delivery/data/replies.tsv");
  return c;
}

const std::vector<CorpusRow>& replies() { return corpus().rows; }

}  // namespace

namespace ferry::test {
void PrintTo(const CorpusRow& r, std::ostream* os) { *os << "replies.tsv:" << r.line; }
}  // namespace ferry::test

class RealReplies : public ::testing::TestWithParam<CorpusRow> {};

// Every row gets its label, except the few the file marks as known misses (listed there).
TEST_P(RealReplies, HaveTheExpectedCategory) {
  const auto& r = GetParam();
  const auto got = classify_reply_category(r.reply);
  EXPECT_FALSE(got.advice.empty());
  if (r.known_miss) {
    EXPECT_NE(got.category, r.category)
        << "replies.tsv:" << r.line << " is classified right now: drop its known-miss note";
    return;
  }
  EXPECT_EQ(got.category, r.category)
      << "replies.tsv:" << r.line << ": " << r.reply.code << " " << r.reply.status.str() << " "
      << r.reply.text << "  [" << r.provider << "; " << r.source << "]";
}

INSTANTIATE_TEST_SUITE_P(categoryReal, RealReplies, ::testing::ValuesIn(replies()),
                         [](const auto& info) { return "line" + std::to_string(info.param.line); });

TEST(categoryTable, HasAThousandRealRepliesFromFortyProvidersWithSources) {
  for (const auto& e : corpus().errors) ADD_FAILURE() << e;
  ASSERT_GE(replies().size(), 1000u);
  std::set<std::string> categories, providers;
  std::size_t misses = 0;
  for (const auto& r : replies()) {
    EXPECT_FALSE(r.source.empty()) << r.line;
    categories.insert(r.category);
    providers.insert(r.provider);
    misses += r.known_miss;
  }
  EXPECT_GE(providers.size(), 40u);
  EXPECT_LE(misses * 50, replies().size()) << "known misses must stay a few (at most 2%)";
  // every category except the ones only local failures produce is exercised by a real reply
  for (auto c : reply_categories()) EXPECT_TRUE(categories.count(std::string(c))) << c;
}

TEST(categoryTable, EveryRuleNamesAKnownCategoryWithAdvice) {
  std::set<std::string_view> known(reply_categories().begin(), reply_categories().end());
  EXPECT_EQ(known.size(), 21u);
  EXPECT_LE(table::text_rules.size(), kMaxTextRules);
  for (const auto& r : table::text_rules) {
    EXPECT_TRUE(known.count(r.category)) << r.category;
    EXPECT_FALSE(r.origin.empty()) << r.needles;
    EXPECT_EQ(r.origin.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ "), std::string_view::npos) << r.origin;
    EXPECT_EQ(r.needles.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string_view::npos) << r.needles;
    EXPECT_EQ(r.needles.find("||"), std::string_view::npos) << r.needles;
  }
  for (const auto& r : table::status_rules) EXPECT_TRUE(known.count(r.category));
  for (const auto& r : table::code_rules) EXPECT_TRUE(known.count(r.category));
  for (auto c : known) EXPECT_FALSE(category_advice(c).empty()) << c;
  EXPECT_TRUE(category_advice("no_such_category").empty());
}
