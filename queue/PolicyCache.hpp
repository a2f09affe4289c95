// PolicyCache: the queue environment's `sts` table, a domain's cached transport-security policy
// (RFC 8461 MTA-STS) as plain fields, with its versioned encoding.
// Contract: queue/ stores and returns these bytes and times; what they mean (parsing the policy,
// when to re-fetch) belongs to the caller. Keys are lower-case domains.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"

namespace ferry::queue {

struct PolicyCacheRecord {
  std::string domain;
  std::string id;           // the published record's id the policy was fetched under
  std::string policy_text;  // the policy as fetched
  TimeMs fetched_ms = 0;
  TimeMs expires_ms = 0;
  TimeMs next_refresh_ms = 0;
  std::uint32_t failures = 0;  // consecutive failed refreshes
};

namespace codec {
inline constexpr std::uint8_t kPolicyCacheVersion = 1;
// The value stored under the domain (the domain itself is the key, not repeated).
std::string encode_policy_cache(const PolicyCacheRecord& r);
Result<PolicyCacheRecord> decode_policy_cache(std::string_view domain, std::string_view bytes);
}  // namespace codec

}  // namespace ferry::queue
