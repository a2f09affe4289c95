// PaceRule: how fast Ferry may send to a destination, and which destination a recipient domain
// belongs to for pacing (a domain pattern, or the pattern of the domain's MX hosts).
// Contract: pure; matching is case-insensitive on lower-cased names; the key names one bucket.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Clock.hpp"

namespace ferry::delivery {

struct PaceRule {
  enum class Match { Domain, Mx };
  Match match = Match::Domain;
  // Lower-case: "example.com" (that domain), "*.example.com" (any name below it, at any depth:
  // MX hosts like "aspmx.l.google.com" sit several labels down), or "*" (domain only: every
  // recipient domain, each with a bucket of its own).
  std::string pattern;
  double rate = 0;                // messages per second; 0 = no fixed rate (only the automatic back-off)
  double burst = 0;               // tokens the bucket holds; 0 = one second's worth of rate, at least 1
  std::uint32_t connections = 0;  // open connections per destination; 0 = no own limit
  std::uint32_t messages_per_connection = 0;  // then a new connection; 0 = no limit
  TimeMs backoff_period_ms = 10 * 60 * 1000;  // how long a halved rate holds before a step up
  bool builtin = false;                       // one of builtin_pace_rules()
  bool operator==(const PaceRule&) const = default;
};

// The burst a rule's bucket holds: its own, or one second's worth of its rate (at least 1).
double pace_burst(const PaceRule& rule);

// The bucket a recipient domain is paced by: `name` identifies it in logs, metrics and
// `queue show` ("yahoo.com", "*.example.com", "mx:*.google.com"); `rule` is what applies.
struct PaceKey {
  std::string name;
  PaceRule rule;
  bool operator==(const PaceKey&) const = default;
};

// true when `pattern` covers `name` (both lower-case, no trailing dot): equal, or "*.x" and
// `name` ends in ".x"; "*" covers every name.
bool pace_pattern_matches(std::string_view pattern, std::string_view name);

// The rules in force: the user's, then each built-in rule whose match and pattern no user rule
// has (a user rule for the same pattern replaces the built-in one).
std::vector<PaceRule> effective_pace_rules(std::span<const PaceRule> user);

// Rules for the big mailbox providers' MX hosts. None of them publishes a sending rate (their
// sender guidelines ask for gradual ramp-up and for honouring their 4xx "slow down" replies),
// so these carry no fixed rate: they group every domain hosted by one provider into one
// destination, since the provider counts what one sending IP sends to all of them, and let the
// automatic back-off find the rate the provider accepts.
std::span<const PaceRule> builtin_pace_rules();

// The pacing key of a recipient domain (lower-case). Precedence, most specific intent first:
//  1. a domain rule naming the domain exactly, then the longest "*.x" domain pattern covering it;
//  2. an MX rule covering one of `mx_hosts` (in MX preference order; the first host that any MX
//     rule covers decides, with the longest pattern covering it);
//  3. the catch-all domain rule "*" (a bucket per domain);
//  4. none: the domain's own bucket without a fixed rate (back-off only; default period).
// `fallback` names the bucket of 3 and 4 (the scheduler's destination: the domain, or a route's
// "host:port"). An exact or catch-all domain key is that name; a pattern key is the pattern,
// prefixed "mx:" for MX rules.
PaceKey pace_key_for(std::span<const PaceRule> rules, std::string_view domain,
                     std::span<const std::string> mx_hosts, std::string_view fallback);

// The key a name from a saved pacing state stands for under `rules` (after a restart): "mx:<p>"
// is the MX rule with pattern p, "*.x" the domain rule with that pattern, any other name a
// destination of its own. nullopt when the rules no longer give that name that key.
std::optional<PaceKey> pace_key_by_name(std::span<const PaceRule> rules, std::string_view name);

// true when some rule matches by MX (the daemon must know a domain's MX hosts to pace it).
bool pace_needs_mx(std::span<const PaceRule> rules);

}  // namespace ferry::delivery
