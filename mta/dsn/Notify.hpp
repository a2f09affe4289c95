// Notify: which recipients a report is owed for, from their RFC 3461 §4.1 NOTIFY parameter.
// Contract: pure; NEVER means no report of any kind; nothing is ever owed for a "<>" message.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ferry/Envelope.hpp"

namespace ferry::dsn {

// The three kinds of report a DSN carries; one DSN reports one kind.
enum class ReportKind : std::uint8_t {
  Failure,  // Action "failed": permanent failure or expiry (RFC 3464 §2.3.3)
  Delay,    // Action "delayed": a warning that delivery is still being retried
  Success,  // Action "delivered" or "relayed" (only when NOTIFY=SUCCESS asked for it)
};

const char* to_string(ReportKind kind) noexcept;

// Does `rcpt`'s NOTIFY ask for a report of `kind`? RFC 3461 §4.1: NEVER → nothing; an explicit
// list → exactly what it names; no NOTIFY → the MTA's default, which is FAILURE, plus DELAY when
// `delay_by_default` (the `[bounce]` configuration; RFC 3461 allows either).
bool wants(const EnvelopeRecipient& rcpt, ReportKind kind, bool delay_by_default = true);

// The subset of `candidates` (indexes into envelope.recipients, in order, duplicates and
// out-of-range indexes dropped) that a report of `kind` to the sender is owed for. Always empty
// for a "<>" envelope (RFC 5321 §4.5.5, §6.1: never bounce a bounce; see DsnComposer for the
// postmaster copy). compose() applies the same rule itself; this is for callers that want to
// know before building the input.
std::vector<std::uint32_t> recipients_to_report(const Envelope& envelope, ReportKind kind,
                                                std::span<const std::uint32_t> candidates,
                                                bool delay_by_default = true);

}  // namespace ferry::dsn
