// StsShared: an MTA-STS policy as the nodes of a fleet share it in Redis (ferry:sts:<domain>):
// the policy text as served, the TXT id it was fetched under, when, and by which node.
// Contract: pure. decode treats the value as another node's word: its size is bounded, every
// header field is checked, and the policy text goes through the parser a fetched policy goes
// through (RFC 8461 §3.2); anything else is refused with the reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"
#include "mta/delivery/Random.hpp"
#include "mta/delivery/StsPolicy.hpp"

namespace ferry::delivery {

// The header lines before the policy text stay far below this.
inline constexpr std::size_t kStsSharedHeaderBytes = 512;
inline constexpr std::size_t kStsSharedMaxBytes = kStsMaxPolicyBytes + kStsSharedHeaderBytes;
// Nodes' clocks differ a little: a value fetched up to this far in our future is taken as
// fetched now; further is refused (a node with a wrong clock must not stretch a policy's life).
inline constexpr TimeMs kStsSharedClockSkewMs = 5 * 60 * 1000;

struct StsShared {
  std::string id;           // the TXT record's id the policy was fetched under (RFC 8461 §3.1)
  TimeMs fetched_ms = 0;    // when it was fetched (Unix ms, the publishing node's clock)
  std::string node;         // the node that fetched it (for the log)
  std::string policy_text;  // the policy file as served
};

// "ferry:sts:<domain>", for a lower-case domain name of LDH labels (at most 253 octets); nullopt
// for anything else, which is then not shared.
std::optional<std::string> sts_shared_key(std::string_view domain);

// The value written to Redis; its time to live is sts_shared_ttl().
std::string encode_sts_shared(const StsShared& shared);

struct StsSharedPolicy {
  StsShared shared;
  StsPolicy policy;  // policy_text, parsed
};
Result<StsSharedPolicy, std::string> decode_sts_shared(std::string_view value);

// How long the value may live in Redis: what is left of the policy's max_age (RFC 8461 §3.2);
// zero when nothing is left (then it is not published).
std::chrono::milliseconds sts_shared_ttl(const StsCached& entry, TimeMs now);

// The cache entry a node makes of a shared policy, as if it had fetched it itself when the
// publishing node did (the same expiry and proactive refresh time): only for the TXT id
// published now, and only while its max_age has not run out; nullopt otherwise.
std::optional<StsCached> sts_adopt_shared(const StsSharedPolicy& shared, const std::string& txt_id,
                                          TimeMs now, const RandomSource& rand);

// Whether an adopted policy (sts_adopt_shared) replaces the local entry: only one fetched after
// ours under the same id, or under another id (a copy of our own fetch gives nothing). At a
// proactive refresh, only one not itself due for a refresh (else this node fetches anew).
bool sts_shared_replaces(const std::optional<StsCached>& local, const StsCached& adopted, bool refreshing,
                         TimeMs now);

}  // namespace ferry::delivery
