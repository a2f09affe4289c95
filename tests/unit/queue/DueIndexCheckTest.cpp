// DueIndexCheck: recovery's merge of the due index with the recipients, table-driven: backed,
// missing, stale, duplicate, orphan and not-Pending entries.
#include "queue/DueIndexCheck.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace ferry::queue {
namespace {

using Entry = DueIndexCheck::Entry;

struct Visit {
  std::uint64_t id;
  std::uint32_t index;
  std::optional<std::uint64_t> pending_due;
  bool missing;  // expected answer
};

struct Case {
  const char* name;
  std::vector<Entry> indexed;  // in index order (due first), as the walk adds them
  std::vector<Visit> visits;   // in recipient key order
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint32_t>> unbacked;  // due, id, index
};

Entry e(std::uint64_t due, std::uint64_t id, std::uint32_t index) { return {due, QueueId{id}, index}; }

TEST(queue_due_index_check, Table) {
  const std::vector<Case> cases = {
      {"all backed",
       {e(5, 2, 0), e(9, 1, 0), e(9, 1, 1)},
       {{1, 0, 9, false}, {1, 1, 9, false}, {2, 0, 5, false}},
       {}},
      {"a Pending recipient without its entry", {e(9, 1, 0)}, {{1, 0, 9, false}, {1, 1, 7, true}}, {}},
      {"an entry at a stale time, and the right one missing", {e(3, 1, 0)}, {{1, 0, 8, true}}, {{3, 1, 0}}},
      {"two entries for one recipient", {e(3, 1, 0), e(8, 1, 0)}, {{1, 0, 8, false}}, {{3, 1, 0}}},
      {"an entry for a recipient that is not Pending",
       {e(4, 1, 0)},
       {{1, 0, std::nullopt, false}},
       {{4, 1, 0}}},
      {"entries for no recipient, before, between and after",
       {e(1, 1, 5), e(2, 3, 0), e(3, 9, 9), e(4, 2, 0)},
       {{2, 0, 4, false}, {4, 0, std::nullopt, false}},
       {{1, 1, 5}, {2, 3, 0}, {3, 9, 9}}},
      {"empty index, nothing Pending", {}, {{1, 0, std::nullopt, false}}, {}},
  };
  for (const auto& c : cases) {
    DueIndexCheck check;
    for (const auto& x : c.indexed) check.add_indexed(x);
    check.sort();
    for (const auto& v : c.visits)
      EXPECT_EQ(check.visit(QueueId{v.id}, v.index, v.pending_due), v.missing)
          << c.name << " " << v.id << "#" << v.index;
    std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint32_t>> got;
    for (const auto& u : check.finish()) got.emplace_back(u.due, u.id.value, u.index);
    std::sort(got.begin(), got.end());
    auto want = c.unbacked;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << c.name;
  }
}

TEST(queue_due_index_check, EntryIsSmall) { EXPECT_LE(sizeof(Entry), 24u); }

}  // namespace
}  // namespace ferry::queue
