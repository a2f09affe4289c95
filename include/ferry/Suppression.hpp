// Suppression: the vocabulary of the suppression list — an entry, the address key, the reply
// text, and the lookup interface the SMTP server, the HTTP submission and the delivery agent ask.
// Contract: standard library only, pure; the table lives in queue/, the lookup's implementation
// is chosen by the daemon (the local queue today; a shared store may wrap it later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"
#include "ferry/text/Ascii.hpp"

namespace ferry {

enum class SuppressionSource : std::uint8_t { Bounce = 0, Manual = 1 };

inline const char* to_string(SuppressionSource s) noexcept {
  return s == SuppressionSource::Manual ? "manual" : "bounce";
}

// The stored reply is for the operator's eye: one line, at most this many bytes.
inline constexpr std::size_t kMaxSuppressionReply = 200;
// An address longer than a path may be (RFC 5321 §4.5.3.1.3: 256 octets) is never a key.
inline constexpr std::size_t kMaxSuppressionAddress = 256;

// One suppressed address.
struct SuppressionEntry {
  std::string address;   // the key: suppression_key() of the recipient
  std::string category;  // unknown_user, mailbox_disabled, bad_domain; "manual" when added by hand
  std::string status;    // the failure's enhanced status ("5.1.1"); may be empty
  std::string reply;     // the remote's reply, or the operator's reason: short, one line
  TimeMs time_ms = 0;    // when it was recorded; the entry refuses until time_ms + ttl
  QueueId queue_id;      // the message whose failure recorded it (0 when manual)
  SuppressionSource source = SuppressionSource::Bounce;

  bool expired(TimeMs now, TimeMs ttl_ms) const { return now - time_ms >= ttl_ms; }
};

// The key of an address: all of it lower-cased (ASCII only; UTF-8 bytes stay as they are).
// The domain is case-insensitive (RFC 5321 §2.4); the local part may be case-sensitive there,
// but a receiver that said "no such user" to Bob@ says it to bob@ too in practice, and a
// suppression that misses a case variant lets the hard bounce (the damage to our reputation)
// happen again. Nothing else is folded: dots and +tags name different mailboxes at many hosts.
inline std::string suppression_key(std::string_view address) { return text::to_lower(address); }

// The stored reply: control characters become spaces, cut at kMaxSuppressionReply bytes.
inline std::string suppression_reply_text(std::string_view reply) {
  std::string out;
  for (char c : reply.substr(0, kMaxSuppressionReply)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  return out;
}

// The ISO 8601 calendar day (UTC) of a time: "2026-12-08". Days since the epoch to a civil
// date, after H. Hinnant's days_from_civil inverse.
inline std::string suppression_day(TimeMs time_ms) {
  std::int64_t z = (time_ms >= 0 ? time_ms : time_ms - 86'399'999) / 86'400'000 + 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<std::uint32_t>(z - era * 146'097);
  const std::uint32_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const std::uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint32_t mp = (5 * doy + 2) / 153;
  const std::uint32_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::uint32_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  char buf[16];
  auto two = [](char* p, std::uint32_t v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  const auto yy = static_cast<std::uint32_t>(y < 0 ? 0 : y % 10000);
  two(buf, yy / 100);
  two(buf + 2, yy % 100);
  buf[4] = '-';
  two(buf + 5, m);
  buf[7] = '-';
  two(buf + 8, d);
  return std::string(buf, 10);
}

// Why `address` is refused, without the codes: "<a@b>: suppressed after a hard bounce on
// 2026-12-08 (unknown_user)"; an entry added by hand says so instead of naming a bounce.
inline std::string suppression_text(std::string_view address, const SuppressionEntry& e) {
  std::string out = "<" + std::string(address) + ">: suppressed ";
  out += e.source == SuppressionSource::Manual ? "by the postmaster" : "after a hard bounce";
  out += " on " + suppression_day(e.time_ms) + " (" + e.category + ")";
  return out;
}

// The full RCPT reply line: 550 with 5.1.1 (RFC 3463 "bad destination mailbox address"), the
// code the bounce that recorded the entry most often carried.
inline std::string suppression_refusal(std::string_view address, const SuppressionEntry& e) {
  return "550 5.1.1 " + suppression_text(address, e);
}

// Asked before accepting or attempting a recipient. Implementations are called on the I/O
// thread and must answer quickly (a local read transaction; a shared store with a short timeout
// falling back to the local answer).
class SuppressionLookup {
 public:
  virtual ~SuppressionLookup() = default;
  // The live entry for `address` at `now`; nullopt when it is not suppressed (or the entry is
  // older than the ttl, or the list cannot be read: a lookup failure never refuses mail).
  virtual std::optional<SuppressionEntry> find(std::string_view address, TimeMs now) const = 0;
};

}  // namespace ferry
