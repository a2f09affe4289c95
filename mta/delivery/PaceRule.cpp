// PaceRule: pattern matching, rule precedence and the built-in provider rules.
#include "mta/delivery/PaceRule.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::delivery {

namespace {

PaceRule builtin_mx(std::string pattern) {
  PaceRule r;
  r.match = PaceRule::Match::Mx;
  r.pattern = std::move(pattern);
  r.builtin = true;
  return r;
}

// Gmail and Google Workspace (aspmx.l.google.com and its alternates), Microsoft 365 and
// Outlook.com (*.mail.protection.outlook.com, *.olc.protection.outlook.com), Yahoo and AOL
// (mta*.am0.yahoodns.net).
const std::vector<PaceRule>& builtins() {
  static const std::vector<PaceRule> rules = {
      builtin_mx("*.google.com"),
      builtin_mx("*.protection.outlook.com"),
      builtin_mx("*.yahoodns.net"),
  };
  return rules;
}

// The length of the covering pattern (more specific = longer), or nullopt.
std::optional<std::size_t> coverage(const PaceRule& r, std::string_view name) {
  if (!pace_pattern_matches(r.pattern, name)) return std::nullopt;
  return r.pattern.size();
}

const PaceRule* best_domain_rule(std::span<const PaceRule> rules, std::string_view domain) {
  const PaceRule* best = nullptr;
  for (const auto& r : rules) {
    if (r.match != PaceRule::Match::Domain || r.pattern == "*") continue;
    if (r.pattern == domain) return &r;  // exact beats any pattern
    const auto c = coverage(r, domain);
    if (c && (!best || *c > best->pattern.size())) best = &r;
  }
  return best;
}

const PaceRule* best_mx_rule(std::span<const PaceRule> rules, std::span<const std::string> mx_hosts) {
  for (const auto& host : mx_hosts) {
    const PaceRule* best = nullptr;
    for (const auto& r : rules) {
      if (r.match != PaceRule::Match::Mx) continue;
      const auto c = coverage(r, host);
      if (c && (!best || *c > best->pattern.size())) best = &r;
    }
    if (best) return best;
  }
  return nullptr;
}

}  // namespace

double pace_burst(const PaceRule& rule) {
  if (rule.burst > 0) return rule.burst;
  return std::max(1.0, std::floor(rule.rate));
}

bool pace_pattern_matches(std::string_view pattern, std::string_view name) {
  if (pattern == "*") return true;
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  }
  return pattern == name;
}

std::vector<PaceRule> effective_pace_rules(std::span<const PaceRule> user) {
  std::vector<PaceRule> out(user.begin(), user.end());
  for (const auto& b : builtins()) {
    const bool replaced = std::any_of(user.begin(), user.end(), [&](const PaceRule& u) {
      return u.match == b.match && u.pattern == b.pattern;
    });
    if (!replaced) out.push_back(b);
  }
  return out;
}

std::span<const PaceRule> builtin_pace_rules() { return builtins(); }

PaceKey pace_key_for(std::span<const PaceRule> rules, std::string_view domain,
                     std::span<const std::string> mx_hosts, std::string_view fallback) {
  if (const PaceRule* r = best_domain_rule(rules, domain)) {
    const bool exact = r->pattern == domain;
    return {exact ? std::string(fallback) : r->pattern, *r};
  }
  if (const PaceRule* r = best_mx_rule(rules, mx_hosts)) return {"mx:" + r->pattern, *r};
  for (const auto& r : rules)
    if (r.match == PaceRule::Match::Domain && r.pattern == "*") return {std::string(fallback), r};
  return {std::string(fallback), PaceRule{}};
}

std::optional<PaceKey> pace_key_by_name(std::span<const PaceRule> rules, std::string_view name) {
  const bool mx = name.substr(0, 3) == "mx:";
  const std::string_view pattern = mx ? name.substr(3) : name;
  if (mx || pattern.substr(0, 2) == "*.") {
    for (const auto& r : rules)
      if ((r.match == PaceRule::Match::Mx) == mx && r.pattern == pattern)
        return PaceKey{std::string(name), r};
    return std::nullopt;
  }
  PaceKey k = pace_key_for(rules, name, {}, name);
  if (k.name != name) return std::nullopt;
  return k;
}

bool pace_needs_mx(std::span<const PaceRule> rules) {
  return std::any_of(rules.begin(), rules.end(),
                     [](const PaceRule& r) { return r.match == PaceRule::Match::Mx; });
}

}  // namespace ferry::delivery
