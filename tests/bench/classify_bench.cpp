// classify_bench: how well the reply category table generalises, measured on the corpus
// (tests/unit/delivery/data/replies.tsv) with k-fold cross-validation by provider, and how fast.
// A fold holds whole providers; while a fold is evaluated, every text rule written only from that
// fold's providers (TextRule::origin) is switched off, so its replies are classified by rules
// written from other providers' replies, the RFCs and the MTAs' default texts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mta/delivery/ReplyCategory.hpp"
#include "tests/support/ReplyCorpus.hpp"

using namespace ferry;
using namespace ferry::delivery;

namespace {

constexpr int kFolds = 5;

std::vector<std::string_view> split_bar(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto bar = s.find('|');
    out.push_back(s.substr(0, bar));
    if (bar == std::string_view::npos) return out;
    s.remove_prefix(bar + 1);
  }
}

// Providers are dealt to folds largest first, each to the fold with the fewest rows so far
// (ties: the lower fold, names break count ties): deterministic and roughly balanced.
std::map<std::string, int> assign_folds(const std::vector<test::CorpusRow>& rows) {
  std::map<std::string, int> count;
  for (const auto& r : rows) ++count[r.provider];
  std::vector<std::pair<std::string, int>> order(count.begin(), count.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<int> size(kFolds, 0);
  std::map<std::string, int> fold;
  for (const auto& [provider, n] : order) {
    const int f = static_cast<int>(std::min_element(size.begin(), size.end()) - size.begin());
    fold[provider] = f;
    size[f] += n;
  }
  return fold;
}

// Rule i stays on for fold f unless all its origins are providers of fold f ("generic" never is).
std::vector<char> enabled_for(int f, const std::map<std::string, int>& fold,
                              std::vector<std::string>& unknown) {
  std::vector<char> on(table::text_rules.size(), 1);
  for (std::size_t i = 0; i < on.size(); ++i) {
    bool all_in_fold = true;
    for (auto origin : split_bar(table::text_rules[i].origin)) {
      const auto it = fold.find(std::string(origin));
      if (it == fold.end() && origin != "generic") unknown.emplace_back(origin);
      if (it == fold.end() || it->second != f) all_in_fold = false;
    }
    on[i] = !all_in_fold;
  }
  return on;
}

std::string abbrev(std::string_view cat) { return std::string(cat.substr(0, 7)); }

void print_confusion(const std::map<std::pair<std::string, std::string>, int>& m) {
  const auto cats = reply_categories();
  std::printf("\nconfusion matrix, held-out folds (rows: expected, columns: got; '.' = 0)\n%-20s", "");
  for (auto c : cats) std::printf(" %7s", abbrev(c).c_str());
  std::printf("\n");
  for (auto want : cats) {
    std::printf("%-20s", std::string(want).c_str());
    for (auto got : cats) {
      const auto it = m.find({std::string(want), std::string(got)});
      if (it == m.end())
        std::printf(" %7s", ".");
      else
        std::printf(" %7d", it->second);
    }
    std::printf("\n");
  }
}

// Precision (of the replies given this category, how many have it) and recall, held-out.
void print_precision(const std::map<std::pair<std::string, std::string>, int>& m) {
  std::printf("\nheld-out precision / recall per category\n");
  for (auto cat : reply_categories()) {
    const std::string c(cat);
    int got = 0, want = 0, both = 0;
    for (const auto& [key, n] : m) {
      if (key.second == c) got += n;
      if (key.first == c) want += n;
      if (key.first == c && key.second == c) both += n;
    }
    std::printf("  %-20s precision %5.1f%% (%d/%d)  recall %5.1f%% (%d/%d)\n", c.c_str(),
                got ? 100.0 * both / got : 100.0, both, got, want ? 100.0 * both / want : 100.0, both, want);
  }
}

double time_per_reply(const std::vector<test::CorpusRow>& rows, int rounds) {
  std::size_t sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& row : rows) sink += classify_reply_category(row.reply).category.size();
  const auto t1 = std::chrono::steady_clock::now();
  if (sink == 42) std::printf(" ");
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / (double(rows.size()) * rounds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(FERRY_SOURCE_DIR) + "/tests/unit/delivery/data/replies.tsv";
  int rounds = 200;
  bool list_misses = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc)
      path = argv[++i];
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--misses")
      list_misses = true;
    else {
      std::fprintf(stderr, "usage: %s [--corpus FILE] [--rounds N] [--misses]\n", argv[0]);
      return 2;
    }
  }
  const auto corpus = test::load_reply_corpus(path);
  for (const auto& e : corpus.errors) std::fprintf(stderr, "%s\n", e.c_str());
  const auto& rows = corpus.rows;
  if (rows.empty()) return 1;

  std::map<std::string, int> per_category;
  for (const auto& r : rows) ++per_category[r.category];
  const auto fold = assign_folds(rows);
  std::printf("corpus: %zu replies, %zu providers, %zu text rules\nper category:", rows.size(), fold.size(),
              table::text_rules.size());
  for (auto c : reply_categories())
    std::printf(" %s=%d", std::string(c).c_str(), per_category[std::string(c)]);
  std::printf("\n\n");

  int in_ok = 0;
  for (const auto& r : rows) in_ok += classify_reply_category(r.reply).category == r.category;

  std::map<std::pair<std::string, std::string>, int> confusion;
  std::vector<std::string> unknown;
  int total_ok = 0;
  for (int f = 0; f < kFolds; ++f) {
    const auto on = enabled_for(f, fold, unknown);
    const std::span<const bool> enabled(reinterpret_cast<const bool*>(on.data()), on.size());
    int n = 0, ok = 0, off = 0;
    std::string providers;
    for (const auto& [p, pf] : fold)
      if (pf == f) providers += (providers.empty() ? "" : " ") + p;
    for (char o : on) off += !o;
    for (const auto& r : rows) {
      if (fold.at(r.provider) != f) continue;
      const auto got = classify_reply_category(r.reply, enabled).category;
      ++n;
      ok += got == r.category;
      ++confusion[{r.category, std::string(got)}];
      if (list_misses && got != r.category)
        std::printf("  miss fold %d line %d: want %s got %s [%s] %d %s %s\n", f, r.line, r.category.c_str(),
                    std::string(got).c_str(), r.provider.c_str(), r.reply.code, r.reply.status.str().c_str(),
                    r.reply.text.c_str());
    }
    total_ok += ok;
    std::printf("fold %d: %4d replies, %5.1f%% held-out (%d text rules off) providers: %s\n", f, n,
                n ? 100.0 * ok / n : 0.0, off, providers.c_str());
  }
  std::printf("\nheld-out overall: %.1f%% (%d/%zu)\nin-sample:        %.1f%% (%d/%zu)\n",
              100.0 * total_ok / rows.size(), total_ok, rows.size(), 100.0 * in_ok / rows.size(), in_ok,
              rows.size());
  std::set<std::string> unk(unknown.begin(), unknown.end());
  for (const auto& u : unk) std::printf("note: rule origin '%s' has no reply in the corpus\n", u.c_str());
  print_confusion(confusion);
  print_precision(confusion);
  std::printf("\ntime: %.3f us per reply (%zu replies x %d rounds)\n", time_per_reply(rows, rounds),
              rows.size(), rounds);
  return 0;
}
