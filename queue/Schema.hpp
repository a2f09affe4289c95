// Schema: the named LMDB databases of the queue and the encoding of their keys.
// Contract: keys are big-endian so LMDB's byte order equals numeric order (ids, due times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"

namespace ferry::queue::schema {

// Bumped when a stored layout changes incompatibly; open() refuses a different version rather
// than misreading records.
inline constexpr std::uint32_t kSchemaVersion = 1;

// Bodies are stored in chunks so one value never has to be one giant overflow run and a large
// message is written and read piecewise.
inline constexpr std::size_t kBodyChunk = 256 * 1024;

// Named databases (mdb_dbi_open names). See queue/README.md for what each holds.
inline constexpr const char* kMeta = "meta";
inline constexpr const char* kMessages = "messages";
inline constexpr const char* kBodies = "bodies";
inline constexpr const char* kRecipients = "recipients";
inline constexpr const char* kDue = "due";
inline constexpr const char* kQuarantine = "quarantine";
// TLS Reporting counters (RFC 8460), added without a schema bump: a queue without it gets it
// at the next read-write open, and readers treat it as empty until then.
inline constexpr const char* kTlsReport = "tlsrpt";
// A domain's cached MTA-STS policy (RFC 8461 §5.1 asks senders to cache it); added without a
// schema bump: an older queue simply has no such table until it is opened for writing.
inline constexpr const char* kSts = "sts";
// Suppressed addresses (SuppressionOps.hpp), added without a schema bump like the two above.
inline constexpr const char* kSuppression = "suppression";
// The delivery events outbox (be64 seq -> event) and each sink's last acknowledged seq; added
// without a schema bump: an older queue gets them at its next read-write open.
inline constexpr const char* kEvents = "events";
inline constexpr const char* kEventCursors = "event_cursors";
inline constexpr unsigned kMaxDbs = 16;

inline constexpr std::string_view kSchemaKey = "schema";

inline void append_be64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
inline void append_be32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
inline std::uint64_t read_be64(std::string_view in, std::size_t pos) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}
inline std::uint32_t read_be32(std::string_view in, std::size_t pos) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}

// Due times before the epoch cannot be ordered as unsigned; they mean "due now" anyway.
inline std::uint64_t due_ordinal(TimeMs t) { return t < 0 ? 0 : static_cast<std::uint64_t>(t); }

// messages: be64(qid)
inline std::string message_key(QueueId id) {
  std::string k;
  append_be64(k, id.value);
  return k;
}
inline std::optional<QueueId> parse_message_key(std::string_view k) {
  if (k.size() != 8) return std::nullopt;
  return QueueId{read_be64(k, 0)};
}

// bodies: be64(qid) + be32(chunk); recipients: be64(qid) + be32(index). Same shape: a message's
// entries are one contiguous key range starting at message_key(qid).
inline std::string sub_key(QueueId id, std::uint32_t n) {
  std::string k;
  append_be64(k, id.value);
  append_be32(k, n);
  return k;
}
inline std::string body_key(QueueId id, std::uint32_t chunk) { return sub_key(id, chunk); }
inline std::string recipient_key(QueueId id, std::uint32_t index) { return sub_key(id, index); }

struct SubKey {
  QueueId id;
  std::uint32_t n = 0;
};
inline std::optional<SubKey> parse_sub_key(std::string_view k) {
  if (k.size() != 12) return std::nullopt;
  return SubKey{QueueId{read_be64(k, 0)}, read_be32(k, 8)};
}

// due: be64(next_attempt_ms) + be64(qid) + be32(index) -> empty. A cursor from the start walks
// recipients in due order.
struct DueKey {
  std::uint64_t due = 0;
  QueueId id;
  std::uint32_t index = 0;
};
inline std::string due_key(TimeMs due, QueueId id, std::uint32_t index) {
  std::string k;
  append_be64(k, due_ordinal(due));
  append_be64(k, id.value);
  append_be32(k, index);
  return k;
}
inline std::optional<DueKey> parse_due_key(std::string_view k) {
  if (k.size() != 20) return std::nullopt;
  return DueKey{read_be64(k, 0), QueueId{read_be64(k, 8)}, read_be32(k, 16)};
}

// quarantine: table name + '\0' + original key. The table name never contains NUL.
inline std::string quarantine_key(std::string_view table, std::string_view key) {
  std::string k(table);
  k.push_back('\0');
  k.append(key);
  return k;
}
struct QuarantineKey {
  std::string table;
  std::string key;
};
inline std::optional<QuarantineKey> parse_quarantine_key(std::string_view k) {
  auto nul = k.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  return QuarantineKey{std::string(k.substr(0, nul)), std::string(k.substr(nul + 1))};
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
  }
  return out;
}

}  // namespace ferry::queue::schema
