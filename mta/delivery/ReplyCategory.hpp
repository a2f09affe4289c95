// ReplyCategory: why a remote refused or deferred, as a fixed identifier with advice for the
// operator. Contract: pure and total; the identifiers never change (JSON, logs, metrics).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ferry/RecipientState.hpp"
#include "ferry/Reply.hpp"

namespace ferry::delivery {

// The fixed category identifiers (logs, metrics, bounces and JSON all carry them).
// Everything returned points at static storage.
namespace category {
inline constexpr std::string_view unknown_user = "unknown_user";
inline constexpr std::string_view mailbox_full = "mailbox_full";
inline constexpr std::string_view mailbox_disabled = "mailbox_disabled";
inline constexpr std::string_view greylisted = "greylisted";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view blocklisted_ip = "blocklisted_ip";
inline constexpr std::string_view blocklisted_domain = "blocklisted_domain";
inline constexpr std::string_view spf_fail = "spf_fail";
inline constexpr std::string_view dkim_fail = "dkim_fail";
inline constexpr std::string_view dmarc_fail = "dmarc_fail";
inline constexpr std::string_view auth_required = "auth_required";
inline constexpr std::string_view tls_required = "tls_required";
inline constexpr std::string_view message_too_large = "message_too_large";
inline constexpr std::string_view spam_content = "spam_content";
inline constexpr std::string_view policy_rejected = "policy_rejected";
inline constexpr std::string_view relay_denied = "relay_denied";
inline constexpr std::string_view bad_domain = "bad_domain";
inline constexpr std::string_view dns_failure = "dns_failure";
inline constexpr std::string_view service_unavailable = "service_unavailable";
inline constexpr std::string_view protocol_error = "protocol_error";
inline constexpr std::string_view other = "other";
}  // namespace category

struct ReplyCategory {
  std::string_view category;  // one of category::*; empty for a positive reply (2xx/3xx)
  std::string_view advice;    // one sentence or two for the operator
  std::string_view detail;    // e.g. the blocklist ("Spamhaus SBL"); often empty
};

// Every identifier, in a stable order (metrics can pre-register one counter per category).
std::span<const std::string_view> reply_categories();

// The category of a remote reply. Text decides when it is clear (codes lie in the wild: 5xx rate
// limits, 4xx permanent rejections, greylisting under odd enhanced codes); then the enhanced
// status; then vaguer text; then the basic code. Unknown failures → `other`. 2xx/3xx → empty.
ReplyCategory classify_reply_category(const Reply& reply);

// The same with some text rules switched off: `text_rule_enabled[i]` says whether
// table::text_rules[i] may match (rules past the end of the span stay on). For measuring how the
// table does on replies its rules were not written from (tests/bench/classify_bench.cpp).
ReplyCategory classify_reply_category(const Reply& reply, std::span<const bool> text_rule_enabled);

// The category of a stored attempt: a remote reply (code != 0) is classified as above; a local or
// network failure (code 0, ReplyClassifier::classify_error) maps to dns_failure, bad_domain,
// service_unavailable, tls_required...; an expiry (4.4.7) is classified by its "last error".
// Delivered attempts → empty category.
ReplyCategory classify_reply_category(const Attempt& attempt);

// The default advice for an identifier ("" for an unknown identifier).
std::string_view category_advice(std::string_view category);

// ---- The data table (ReplyCategoryTable.cpp) ---------------------------------------------------
namespace table {

// A text rule: matches when the reply text contains any of the '|'-separated needles (written in
// lower case; matching ignores ASCII case and reads '_' as a space, as in "BAD_RECIPIENT"). `strong` rules
// decide before the enhanced status; weak ones only when the enhanced status says nothing specific. `origin`
// names the providers whose replies the needles were written from ('|'-separated, e.g. "yahoo|aol"), or
// "generic" for wording from the RFCs and the MTAs' default texts: the generalisation figure switches a rule
// off when measuring it on the replies of its own providers.
struct TextRule {
  std::string_view category;
  std::string_view needles;
  std::string_view detail = {};
  std::uint8_t klass = 0;  // 0: any reply class; 4 or 5: only replies of that class
  bool strong = true;
  std::string_view origin = "generic";
  std::string_view also = {};  // when set, the text must contain one of these needles as well
};

// An enhanced status rule, class-independent (x.subject.detail), RFC 3463 and its updates.
struct StatusRule {
  std::uint16_t subject;
  std::uint16_t detail;
  std::string_view category;
  std::uint8_t klass = 0;  // 0: either class; 4 or 5: only that one
};

// A basic reply code rule (RFC 5321 §4.2.3, RFC 7504), the last resort before `other`; a
// `decisive` one is tried right after the strong text rules, before the enhanced status (codes
// with a single meaning, such as RFC 4954's 535).
struct CodeRule {
  int code;
  std::string_view category;
  bool decisive = false;
};

struct Advice {
  std::string_view category;
  std::string_view advice;
};

extern const std::span<const TextRule> text_rules;
extern const std::span<const StatusRule> status_rules;
extern const std::span<const CodeRule> code_rules;
extern const std::span<const Advice> advice;

}  // namespace table
}  // namespace ferry::delivery
