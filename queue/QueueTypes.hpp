// QueueTypes: the records and requests that cross the queue's API.
// Contract: plain data; no LMDB types leak out of queue/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/RecipientState.hpp"
#include "ferry/Suppression.hpp"

namespace ferry::queue {

// Where one recipient stands. Index = position in Envelope::recipients.
struct RecipientRecord {
  std::uint32_t index = 0;
  RecipientState state = RecipientState::Pending;
  bool leased = false;         // an attempt was started and has not been settled yet
  std::uint32_t attempts = 0;  // attempts started so far
  // Attempts in a row that a crash cut short (leased at a restart); a settle resets it.
  std::uint32_t interrupted = 0;
  TimeMs next_attempt_ms = 0;    // when it is due (Pending only)
  TimeMs first_attempt_ms = 0;   // 0 until the first attempt
  std::optional<Attempt> last;   // the latest settled attempt (the reply shown by `queue list`)
  std::vector<Attempt> history;  // the last kMaxHistory attempts, oldest first
};

// One queued message as stored: envelope + per-recipient records. The body is read separately.
struct MessageRecord {
  QueueId id;
  Envelope envelope;
  std::vector<RecipientRecord> recipients;
  TimeMs delay_warning_sent_ms = 0;  // 0 if no delay warning was sent yet (sent once only)
};

// A message to enqueue: envelope and body bytes (the body as it will be delivered, CRLF lines).
struct NewMessage {
  QueueId id;  // allocated with QueueStore::allocate_id()
  Envelope envelope;
  std::string body;
  TimeMs first_due_ms = 0;  // when recipients first become due (normally arrival)
};

// One recipient due for delivery, as returned by lease.
struct DueRecipient {
  QueueId id;
  std::uint32_t index = 0;
  TimeMs due_ms = 0;
};

// The queue's size as the metrics and the fleet's heartbeat show it, read without a scan (a
// million queued messages must not stall a scrape): table entry counts and one record.
struct QueueCounts {
  std::size_t messages = 0;
  std::size_t pending_recipients = 0;       // the due index: every Pending recipient, exactly once
  std::optional<TimeMs> oldest_arrival_ms;  // of the oldest message (ids sort by allocation time)
};

// What happened to one recipient's attempt, for settle.
struct RecipientResult {
  QueueId id;
  std::uint32_t index = 0;
  Attempt attempt;             // outcome Delivered / Transient / Permanent / Expired
  TimeMs next_attempt_ms = 0;  // for Transient: when to retry
  bool suppressed = false;     // failed without an attempt: the address is on the suppression list
};

// One settle transaction: results, plus messages (bounces) enqueued atomically with them.
struct SettleRequest {
  std::vector<RecipientResult> results;
  std::vector<NewMessage> enqueue;
  std::vector<QueueId> mark_delay_warned;  // messages whose delay warning is in `enqueue`
  // Addresses whose hard failure is among `results`: written to the suppression table in the
  // same transaction, so a crash never leaves the failure without its entry or the reverse.
  std::vector<SuppressionEntry> suppress;
  TimeMs now_ms = 0;
};

// A record that failed to decode and was moved aside.
struct QuarantinedRecord {
  std::string table;
  std::string key_hex;
  std::string reason;
  std::size_t size = 0;
};

// How start-up recovery reschedules the attempts the last process left unfinished.
struct RecoveryOptions {
  // A first interruption is due again at most this long after the restart (never later than
  // the retry time recorded by its lease). Negative: keep the recorded retry time.
  TimeMs after_crash_ms = -1;
};

// What start-up recovery did.
struct RecoveryReport {
  std::size_t messages = 0;
  std::size_t pending_recipients = 0;
  std::size_t unleased = 0;     // recipients that were leased when the last process died
  std::size_t quarantined = 0;  // records moved to quarantine during this recovery
  // Interrupted twice (or more) in a row: maybe what crashes the daemon. They keep the retry
  // time of their lease (the normal backoff); the caller logs them.
  std::vector<DueRecipient> suspects;
};

inline constexpr std::size_t kMaxHistory = 10;

}  // namespace ferry::queue
