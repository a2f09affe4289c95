// DeliveryEvent: one recorded state change of a queued message or recipient (the events outbox).
// Contract: plain data; the queue writes one in the transaction of the change it records, the
// renderer (mta/events) turns it into JSON, the sinks send it; `seq` orders them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/RecipientState.hpp"

namespace ferry {

enum class EventKind : std::uint8_t {
  Received = 0,      // enqueued (one per recipient)
  Delivered = 1,     // a remote accepted it
  Deferred = 2,      // a transient failure; a retry is scheduled
  Bounced = 3,       // a permanent failure
  Expired = 4,       // max age reached
  DelayWarning = 5,  // a delay report was queued for the message
  Suppressed = 6,    // failed without an attempt: the address is on the suppression list
  Held = 7,
  Released = 8,
  Deleted = 9,  // an operator removed it
};
inline constexpr std::uint8_t kLastEventKind = 9;

inline std::string_view to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::Received:
      return "received";
    case EventKind::Delivered:
      return "delivered";
    case EventKind::Deferred:
      return "deferred";
    case EventKind::Bounced:
      return "bounced";
    case EventKind::Expired:
      return "expired";
    case EventKind::DelayWarning:
      return "delay_warning";
    case EventKind::Suppressed:
      return "suppressed";
    case EventKind::Held:
      return "held";
    case EventKind::Released:
      return "released";
    case EventKind::Deleted:
      return "deleted";
  }
  return "unknown";
}

struct DeliveryEvent {
  std::uint64_t seq = 0;  // the outbox key: strictly increasing, never reused
  TimeMs time_ms = 0;
  EventKind kind = EventKind::Received;
  QueueId id;
  std::string message_id;  // the Message-ID field as received (without angle brackets), or empty
  std::string sender;      // reverse-path; empty = "<>"
  std::string recipient;   // empty for a per-message event (delay_warning)
  std::uint32_t rcpt_index = 0;
  std::uint32_t attempts = 0;      // attempts started for this recipient so far
  std::optional<Attempt> attempt;  // the attempt that caused a delivery-result event

  // Unique and stable (receivers dedupe by it): the queue id is unique per queue and carries
  // its creation time, the sequence is unique within the queue.
  std::string event_id() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = id.str() + "-";
    for (int i = 15; i >= 0; --i) s.push_back(hex[(seq >> (i * 4)) & 0xF]);
    return s;
  }
};

}  // namespace ferry
