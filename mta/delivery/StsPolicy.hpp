// StsPolicy: MTA-STS (RFC 8461) as pure policy: the `_mta-sts` TXT record, the policy file, MX
// pattern matching and the cache's decisions (use, fetch, refresh, back off).
// Contract: parsing never throws and accepts only what RFC 8461 §3.1/§3.2 allow; time and
// randomness are passed in; nothing here does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"
#include "mta/delivery/Random.hpp"

namespace ferry::delivery {

enum class StsMode : std::uint8_t { Enforce, Testing, None };
const char* to_string(StsMode mode);

// RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year).
inline constexpr std::uint64_t kStsMaxAgeLimit = 31557600;
// RFC 8461 §3.3: the policy body is small; a sender bounds what it reads.
inline constexpr std::size_t kStsMaxPolicyBytes = 64 * 1024;

struct StsPolicy {
  StsMode mode = StsMode::None;
  std::uint64_t max_age = 0;    // seconds
  std::vector<std::string> mx;  // patterns, lower case, no trailing dot
};

// The policy id of the TXT records found at `_mta-sts.<domain>` (RFC 8461 §3.1): records not
// starting with "v=STSv1" are ignored; with none or more than one such record, or a malformed
// one, there is no policy (nullopt).
std::optional<std::string> parse_sts_record(const std::vector<std::string>& records);

// The policy file (RFC 8461 §3.2): CRLF or LF lines of `key: value`; unknown keys ignored;
// version STSv1, a mode, max_age and (unless mode is none) at least one mx are required. The
// error says what is wrong, for logs and `ferry probe`.
Result<StsPolicy, std::string> parse_sts_policy(std::string_view text);

// RFC 8461 §4.1: `pattern` is an MX name or "*." + name, where "*" matches exactly one leftmost
// label. Case-insensitive; trailing dots ignored.
bool sts_matches_mx(std::string_view pattern, std::string_view host);
// Whether any of the policy's mx patterns match `host`.
bool sts_policy_allows(const StsPolicy& policy, std::string_view host);

// A domain's cached policy as the cache keeps it (the queue stores it as plain fields).
struct StsCached {
  std::string id;           // the TXT record's id the policy was fetched under
  std::string policy_text;  // the policy file as fetched (parsed again on load)
  TimeMs fetched_ms = 0;
  TimeMs expires_ms = 0;       // fetched_ms + max_age
  TimeMs next_refresh_ms = 0;  // when to fetch again proactively (or retry after a failure)
  std::uint32_t failures = 0;  // consecutive failed fetches since the last success
};

// What to do for a delivery (RFC 8461 §3.3, §5.1), given the TXT lookup's outcome:
// `txt_id` = the id of the one valid record; `txt_absent` = the name has no valid record (as
// opposed to a lookup that failed temporarily).
enum class StsAction : std::uint8_t {
  UseCached,  // the cached policy is current (same id, not expired)
  Fetch,      // fetch the policy (new id, or nothing cached); on failure use the cache if valid
  NoPolicy,   // no record and nothing valid cached: deliver as without MTA-STS
};
StsAction sts_decide(const std::optional<StsCached>& cached, const std::optional<std::string>& txt_id,
                     bool txt_absent, TimeMs now);

// Whether a cached policy may still be applied at `now` (not past max_age).
inline bool sts_valid(const StsCached& c, TimeMs now) { return now < c.expires_ms; }

// The cache entry after a successful fetch: expires after max_age; refreshed proactively well
// before that (RFC 8461 §10.2 recommends refreshing before expiry so an attacker who blocks the
// fetch later cannot make the policy lapse): at half of max_age (at most a day), minus up to a
// tenth of jitter so many domains fetched together do not refresh together.
StsCached sts_after_fetch(std::string id, std::string policy_text, const StsPolicy& policy, TimeMs now,
                          const RandomSource& rand);
// The entry after a failed fetch: the old policy is kept (RFC 8461 §3.3); the next try backs off
// exponentially from five minutes up to six hours, with jitter.
StsCached sts_after_failure(StsCached cached, TimeMs now, const RandomSource& rand);

}  // namespace ferry::delivery
