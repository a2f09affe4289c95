// DsnComposer: builds RFC 3464 delivery status notifications (bounces, delay warnings, success
// reports) as complete RFC 5322 messages. Contract: pure (time and a unique token are inputs);
// returns nothing when no report is owed; output lines end in CRLF and never exceed 998 octets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/RecipientState.hpp"
#include "mta/dsn/Notify.hpp"
#include "mta/dsn/StatusCode.hpp"

namespace ferry::dsn {

// One recipient to report on.
struct RecipientReport {
  RecipientReport() = default;
  RecipientReport(std::uint32_t index_, Attempt attempt_,
                  std::optional<Attempt> last_transient_ = std::nullopt, bool relayed_ = false)
      : index(index_),
        attempt(std::move(attempt_)),
        last_transient(std::move(last_transient_)),
        relayed(relayed_) {}

  std::uint32_t index = 0;  // into envelope->recipients (out-of-range indexes are ignored)

  // The attempt that decided this report: the Permanent (or Expired) attempt for a failure,
  // the latest Transient attempt for a delay (time_ms 0 when none was made yet), the Delivered
  // attempt for a success. Its host/ip, code, status and reply become Remote-MTA, Status,
  // Diagnostic-Code and Last-Attempt-Date (RFC 3464 §2.3.4–§2.3.7).
  Attempt attempt;

  // For an Expired attempt: the last Transient attempt before it. Its remote reply is what the
  // sender needs to see (Diagnostic-Code, Remote-MTA, Last-Attempt-Date); Status stays 4.4.7.
  std::optional<Attempt> last_transient;

  // ReportKind::Success only: true → Action "relayed" (handed to a next hop that did not offer
  // DSN, so no later report will come; RFC 3461 §5.2.2), false → "delivered". Ignored otherwise.
  bool relayed = false;

  // Why it failed or is delayed, in the delivery reply classification's fixed vocabulary
  // ("unknown_user", "greylisted", ...; mta/delivery/ReplyCategory), with its detail (which
  // blocklist) and advice. The daemon fills these; DSN stays independent of mta/delivery.
  // Shown in the human-readable part and as the X-Ferry-Category extension field (RFC 3464
  // §2.4). Empty: not shown.
  std::string category;
  std::string category_detail;
  std::string category_advice;
};

struct DsnInput {
  std::string reporting_mta;           // our host name: Reporting-MTA, From, Message-ID (RFC 3464 §2.2.2)
  const Envelope* envelope = nullptr;  // the original envelope (must outlive the call)
  std::string_view original;           // the stored original message, header section + body
  std::string original_queue_id;       // shown as X-Ferry-Queue-ID (RFC 3464 §2.4) and in the text

  ReportKind kind = ReportKind::Failure;
  std::vector<RecipientReport> recipients;  // all recipients of this kind settled together

  TimeMs now_ms = 0;           // Date of the report
  int utc_offset_minutes = 0;  // zone for every date written (numeric, RFC 3464 §2.2.5)
  TimeMs retry_until_ms = 0;   // Delay only: Will-Retry-Until (RFC 3464 §2.3.9); 0 = omit

  // Unique per report (the bounce's queue id, say): Message-ID "<unique@reporting_mta>" and the
  // MIME boundary. Characters other than [A-Za-z0-9-_] are replaced by '_'.
  std::string unique;

  // At most this many octets of the original are returned, whatever RET asked for: RET=FULL cuts
  // the body at a line boundary after the whole header section; a header section that alone is
  // over the cap is cut after the last complete header field that fits (and returned as
  // headers only). The text part says so whenever something was cut.
  std::uint64_t max_return_size = 256 * 1024;

  // RFC 3461 §4.1: with no NOTIFY, failures are always reported; delays only when this is true.
  bool delay_by_default = true;

  // A failed "<>" message is never bounced to its (empty) sender (RFC 5321 §6.1). When this is
  // set, a Failure report about it goes here instead (a "double bounce", ignoring NOTIFY), unless
  // a failed recipient is this very address, which breaks the loop a failed double bounce would
  // start. Empty: nothing is sent for "<>" (the daemon only logs).
  std::string postmaster_address;
};

struct DsnMessage {
  std::string reverse_path;                 // always "": MAIL FROM:<> (RFC 5321 §4.5.5)
  std::string recipient;                    // the original sender (source route stripped), or postmaster
  std::string body;                         // the complete message: header section, CRLF, MIME body
  bool smtputf8 = false;                    // needs SMTPUTF8 to send (RFC 6531): a global DSN (RFC 6533)
  BodyType body_type = BodyType::SevenBit;  // EightBitMime when any part is 8bit (RFC 6152)
  bool double_bounce = false;               // addressed to postmaster about a failed "<>" message
  std::vector<std::uint32_t> reported;      // recipient indexes actually in the report, in order
  std::string message_id;                   // its Message-ID without brackets (the delivery events name it)
};

// Composes the report, or nullopt when none is owed: the envelope is missing; the sender is "<>"
// (and no postmaster copy applies); or NOTIFY (see wants()) leaves no recipient of `kind`.
std::optional<DsnMessage> compose(const DsnInput& input);

// The queue envelope for sending `dsn`: MAIL FROM:<> and one recipient with NOTIFY=NEVER (RFC 3461
// §6.1: no DSN should be issued in response to a DSN), SMTPUTF8 and BODY as the report needs,
// arrival `now_ms`, protocol "local", size set.
Envelope bounce_envelope(const DsnMessage& dsn, TimeMs now_ms);

}  // namespace ferry::dsn
