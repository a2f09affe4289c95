// Notify: RFC 3461 §4.1 NOTIFY decisions (see Notify.hpp).
#include "mta/dsn/Notify.hpp"

#include <algorithm>

namespace ferry::dsn {

const char* to_string(ReportKind kind) noexcept {
  switch (kind) {
    case ReportKind::Failure:
      return "failure";
    case ReportKind::Delay:
      return "delay";
    case ReportKind::Success:
      return "success";
  }
  return "unknown";
}

bool wants(const EnvelopeRecipient& rcpt, ReportKind kind, bool delay_by_default) {
  const std::uint8_t n = rcpt.notify;
  if (n & kNotifyNever) return false;  // RFC 3461 §4.1: NEVER excludes every other keyword
  if (n == kNotifyUnspecified) {
    switch (kind) {
      case ReportKind::Failure:
        return true;
      case ReportKind::Delay:
        return delay_by_default;
      case ReportKind::Success:
        return false;
    }
    return false;
  }
  switch (kind) {
    case ReportKind::Failure:
      return (n & kNotifyFailure) != 0;
    case ReportKind::Delay:
      return (n & kNotifyDelay) != 0;
    case ReportKind::Success:
      return (n & kNotifySuccess) != 0;
  }
  return false;
}

std::vector<std::uint32_t> recipients_to_report(const Envelope& envelope, ReportKind kind,
                                                std::span<const std::uint32_t> candidates,
                                                bool delay_by_default) {
  std::vector<std::uint32_t> out;
  if (envelope.is_bounce()) return out;
  for (std::uint32_t index : candidates) {
    if (index >= envelope.recipients.size()) continue;
    if (std::find(out.begin(), out.end(), index) != out.end()) continue;
    if (wants(envelope.recipients[index], kind, delay_by_default)) out.push_back(index);
  }
  return out;
}

}  // namespace ferry::dsn
