// NeedleMatcher: which text rules of the reply category table a reply's text contains, in one
// pass over the text. Contract: pure; ASCII case-insensitive; the automaton is built once from
// table::text_rules (static storage, thread-safe initialisation) and never changes.
#pragma once

#include <bitset>
#include <cstddef>
#include <string_view>

namespace ferry::delivery {

// The most text rules the table may hold (the unit tests check the table stays within it).
inline constexpr std::size_t kMaxTextRules = 256;

using RuleSet = std::bitset<2 * kMaxTextRules>;

// Bit i is set when the text contains one of table::text_rules[i]'s needles, bit
// kMaxTextRules + i when it contains one of the rule's `also` needles.
RuleSet match_text_rules(std::string_view text);

}  // namespace ferry::delivery
