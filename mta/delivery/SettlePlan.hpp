// SettlePlan: what recording one batch of delivery results means — per recipient the queue
// result, retry drawing and expiry, the reports owed, the log lines, metric events and reschedules.
// Contract: pure (time and randomness are arguments); the caller composes the reports, commits
// the results and reports in one queue transaction, then applies the plan's effects.
//
// mta/delivery may not include queue/ (it is policy, the queue is storage) and links the
// vocabulary only, so the plan speaks in its own plain terms: SettledRecipient is the queue's
// recipient result without the queue id, ReportPlan the rows a DSN is composed from. The daemon
// translates both in a few lines; that keeps this policy testable without LMDB or the composer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/RecipientState.hpp"
#include "ferry/Suppression.hpp"
#include "mta/delivery/Random.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/delivery/RetrySchedule.hpp"

namespace ferry::delivery {

// What the queue knows of one recipient before this settle (indexed like envelope.recipients).
struct SettleRecipientState {
  std::uint32_t attempts = 0;   // attempts started so far (the current one included)
  std::optional<Attempt> last;  // the latest settled attempt: an expiry's "last error"
};

// The message the results belong to, as the queue stored it.
struct SettleMessage {
  QueueId queue_id;                    // for the log lines
  const Envelope* envelope = nullptr;  // must outlive the call; not null
  std::vector<SettleRecipientState> recipients;
  TimeMs delay_warning_sent_ms = 0;  // 0 = no delay warning sent yet
};

// A recipient's index and the attempt made for it on this delivery; nullopt when none was made
// (the session ended before reaching it), settled as a transient attempt made at settle time.
using RecipientAttempts = std::vector<std::pair<std::uint32_t, std::optional<Attempt>>>;

// The results to record, and what the connection they came from said about itself.
struct SettleResults {
  RecipientAttempts results;
  std::string_view tls_info;  // the connection's TLS, kept on attempts that reached a host
  bool remote_dsn = false;    // the next hop offered DSN (it reports NOTIFY=SUCCESS itself)
  // The results are failures made without an attempt because the address is suppressed: they
  // are marked so and never record (or refresh) a suppression themselves.
  bool suppressed = false;
};

// The [bounce] settings the policy needs.
struct BounceRules {
  TimeMs delay_warning_ms = 0;       // a delay warning once a message waited this long; 0 = never
  bool postmaster_set = false;       // a failed "<>" message is reported to a postmaster address
  bool record_suppressions = false;  // hard failures go on the suppression list ([suppression])
};

// One recipient's settled result: the queue's recipient result, and its reply's category
// (empty for a delivery).
struct SettledRecipient {
  std::uint32_t index = 0;
  Attempt attempt;             // Delivered / Transient / Permanent / Expired
  TimeMs next_attempt_ms = 0;  // Transient: when it is due again
  ReplyCategory category;
  bool suppressed = false;  // failed without an attempt: the address is suppressed
};

enum class ReportKind : std::uint8_t { Failure, Delay, Success };

// One row of a report: the composer's input (RFC 3464 per-recipient fields), category included.
struct ReportRow {
  std::uint32_t index = 0;
  Attempt attempt;
  std::optional<Attempt> last_transient;  // an expiry's last remote reply
  bool relayed = false;                   // Success: no DSN at the next hop, "relayed"
  ReplyCategory category;
};

// A report owed to the sender; composition may still find nothing owed (NOTIFY, "<>").
struct ReportPlan {
  ReportKind kind = ReportKind::Failure;
  std::vector<ReportRow> rows;
  TimeMs retry_until_ms = 0;  // Delay: Will-Retry-Until (RFC 3464 §2.3.9)
};

enum class SettleEvent : std::uint8_t { Delivered, Deferred, Bounced, Expired };

// One metric event per result; bounced and expired both count as bounced.
struct MetricEvent {
  SettleEvent kind = SettleEvent::Delivered;
  double delay_seconds = 0;   // since arrival
  std::string_view category;  // the reply's category (empty for a delivery)
};

// A deferred recipient goes back into the scheduler at this time.
struct Reschedule {
  std::uint32_t index = 0;
  TimeMs due_ms = 0;
};

struct SettlePlan {
  TimeMs now_ms = 0;
  std::vector<SettledRecipient> results;  // the queue request, one per input result, in order
  // Failure, then Success, then Delay, each only when it has rows. The Delay report is only
  // planned when the delay warning rule holds; once it composes the message is marked warned.
  std::vector<ReportPlan> reports;
  std::vector<std::string> log_lines;   // one per result, logged whether or not committed
  std::vector<std::string> notes;       // logged after the report lines, once committed
  std::vector<MetricEvent> metrics;     // applied once committed
  std::vector<Reschedule> reschedules;  // applied once committed
  bool delivered_any = false;           // slow start: the destination copes with one more
  // Addresses to suppress, committed with the results (see suppresses()).
  std::vector<SuppressionEntry> suppressions;
};

// Whether a settled result puts its address on the suppression list: a Permanent failure (not
// an expiry, which says nothing about the mailbox) of a category that means the address itself
// is dead — unknown_user, mailbox_disabled or bad_domain — and not one that was itself a
// suppression.
bool suppresses(const SettledRecipient& r);

// Plans the settle of `results` for `message` at `now`:
// - a recipient without an attempt is settled as one made at `now`; every attempt keeps its own
//   time. An attempt left Started is Transient; a Transient one is retried at a time drawn from
//   `retry` (one draw per attempt count: deferred recipients stay together), or expires (4.4.7)
//   once max age passed (RFC 5321 §4.5.4.1), reporting the attempt as the last transient reply;
// - Permanent and Expired results go into one Failure report, deliveries into a Success report
//   unless the next hop speaks DSN (RFC 3461 §5.2.2), deferrals into a Delay report when the
//   message has waited delay_warning and was not warned before;
// - with bounce.record_suppressions, each result that suppresses() gives an entry (source
//   bounce, the reply kept short) and a note for the log;
// - a failure of a "<>" message with no postmaster set is only noted (RFC 5321 §4.5.5).
SettlePlan plan_settle(const SettleMessage& message, SettleResults results, TimeMs now,
                       const RetrySchedule& retry, const BounceRules& bounce, const RandomSource& rand);

// The operator's line for one settled recipient, in Postfix's notation:
// "<id>: to=<rcpt>, relay=..., delay=1.2, tls=..., category=..., dsn=4.2.0, status=deferred (...)".
std::string settle_log_line(QueueId queue_id, std::string_view rcpt, const SettledRecipient& r,
                            TimeMs arrival_ms, TimeMs now);

}  // namespace ferry::delivery
