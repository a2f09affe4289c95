// NeedleMatcher: an Aho-Corasick automaton over every needle of the text rules, so a reply is
// scanned once whatever the number of needles (the table grows with each provider's wording).
#include "mta/delivery/NeedleMatcher.hpp"

#include <array>
#include <cstdint>
#include <queue>
#include <vector>

#include "ferry/text/Ascii.hpp"
#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::delivery {
namespace {

// Bytes that occur in no needle share class 0, so each state has a small transition row.
struct Automaton {
  std::array<std::uint8_t, 256> klass{};
  std::size_t classes = 1;
  std::vector<std::uint32_t> next;       // state * classes + class -> state (a complete DFA)
  std::vector<std::uint32_t> out_begin;  // per state: range in `out` of the rules it completes
  std::vector<std::uint16_t> out;

  std::uint32_t step(std::uint32_t state, char c) const { return next[state * classes + klass[fold(c)]]; }

  // Case-insensitive, and "BAD_RECIPIENT" reads as "bad recipient".
  static unsigned char fold(char c) {
    return static_cast<unsigned char>(c == '_' ? ' ' : text::ascii_lower(c));
  }
};

// Every needle with the bit it sets: the rule's index for `needles`, kMaxTextRules + index for `also`.
template <typename F>
void for_each_needle(F&& f) {
  const auto& rules = table::text_rules;
  for (std::size_t i = 0; i < rules.size() && i < kMaxTextRules; ++i) {
    for (std::size_t part = 0; part < 2; ++part) {
      std::string_view needles = part == 0 ? rules[i].needles : rules[i].also;
      const auto bit = static_cast<std::uint16_t>(part * kMaxTextRules + i);
      while (!needles.empty()) {
        const auto bar = needles.find('|');
        const std::string_view needle = needles.substr(0, bar);
        if (!needle.empty()) f(bit, needle);
        if (bar == std::string_view::npos) break;
        needles.remove_prefix(bar + 1);
      }
    }
  }
}

// The trie of all needles (state 0 is the root), with the rules each node ends.
struct Trie {
  std::vector<std::vector<std::uint32_t>> child;  // [state][class], 0 = none
  std::vector<std::vector<std::uint16_t>> ends;
};

Trie build_trie(Automaton& a) {
  for_each_needle([&](std::uint16_t, std::string_view needle) {
    for (char c : needle) {
      auto& k = a.klass[Automaton::fold(c)];
      if (k == 0) k = static_cast<std::uint8_t>(a.classes++);
    }
  });
  Trie t;
  t.child.emplace_back(a.classes, 0);
  t.ends.emplace_back();
  for_each_needle([&](std::uint16_t rule, std::string_view needle) {
    std::uint32_t s = 0;
    for (char c : needle) {
      const auto k = a.klass[Automaton::fold(c)];
      if (t.child[s][k] == 0) {
        t.child[s][k] = static_cast<std::uint32_t>(t.child.size());
        t.child.emplace_back(a.classes, 0);
        t.ends.emplace_back();
      }
      s = t.child[s][k];
    }
    t.ends[s].push_back(rule);
  });
  return t;
}

// Breadth-first: failure links turn the trie into a complete DFA; outputs follow the links.
Automaton build() {
  Automaton a;
  Trie t = build_trie(a);
  const std::size_t n = t.child.size();
  a.next.assign(n * a.classes, 0);
  std::vector<std::uint32_t> fail(n, 0);
  std::vector<std::vector<std::uint16_t>> outs(n);
  std::queue<std::uint32_t> q;
  for (std::size_t k = 0; k < a.classes; ++k) {
    const auto c = t.child[0][k];
    a.next[k] = c;
    if (c != 0) q.push(c);
  }
  outs[0] = t.ends[0];
  while (!q.empty()) {
    const auto s = q.front();
    q.pop();
    outs[s] = t.ends[s];
    outs[s].insert(outs[s].end(), outs[fail[s]].begin(), outs[fail[s]].end());
    for (std::size_t k = 0; k < a.classes; ++k) {
      const auto c = t.child[s][k];
      if (c != 0) {
        fail[c] = a.next[fail[s] * a.classes + k];
        a.next[s * a.classes + k] = c;
        q.push(c);
      } else {
        a.next[s * a.classes + k] = a.next[fail[s] * a.classes + k];
      }
    }
  }
  a.out_begin.reserve(n + 1);
  for (const auto& o : outs) {
    a.out_begin.push_back(static_cast<std::uint32_t>(a.out.size()));
    a.out.insert(a.out.end(), o.begin(), o.end());
  }
  a.out_begin.push_back(static_cast<std::uint32_t>(a.out.size()));
  return a;
}

const Automaton& automaton() {
  static const Automaton a = build();
  return a;
}

}  // namespace

RuleSet match_text_rules(std::string_view text) {
  const Automaton& a = automaton();
  RuleSet found;
  std::uint32_t s = 0;
  for (char c : text) {
    s = a.step(s, c);
    for (auto i = a.out_begin[s]; i < a.out_begin[s + 1]; ++i) found.set(a.out[i]);
  }
  return found;
}

}  // namespace ferry::delivery
