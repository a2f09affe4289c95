// Codec: the versioned binary encoding of every value the queue stores.
// Contract: each value starts with a version byte; decode never throws and never reads out of
// bounds: truncation, an unknown version, a bad enum or trailing bytes give ErrorKind::Corrupt.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/Result.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::queue::codec {

// Version 2 added Envelope::require_tls (RFC 8689), version 3 Envelope::message_id; older
// records are still read, as messages without REQUIRETLS and without a Message-ID.
inline constexpr std::uint8_t kMessageVersion = 3;
// Version 2 added Attempt::tls, version 3 Attempt::status_derived and
// RecipientRecord::interrupted; records of versions 1 and 2 are still read (without the fields
// they lack: no TLS result, the status taken as the remote's, never interrupted).
inline constexpr std::uint8_t kRecipientVersion = 3;
inline constexpr std::uint8_t kQuarantineVersion = 1;
inline constexpr std::uint8_t kMetaVersion = 1;

// Appends little-endian fixed-width ints, LEB128 varints and length-prefixed strings.
class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { fixed(v, 2); }
  void u32(std::uint32_t v) { fixed(v, 4); }
  void u64(std::uint64_t v) { fixed(v, 8); }
  void i64(std::int64_t v) { fixed(static_cast<std::uint64_t>(v), 8); }
  void varint(std::uint64_t v);
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  void fixed(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
  }
  std::string out_;
};

// Reads what Writer wrote. The first failure latches: later reads return zero values and ok()
// stays false, so decoders check once at the end instead of after every field.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint8_t u8();
  std::uint16_t u16() { return static_cast<std::uint16_t>(fixed(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
  std::uint64_t u64() { return fixed(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(fixed(8)); }
  std::uint64_t varint();
  std::string str();
  bool boolean();  // only 0 or 1 are valid
  void fail(const char* why) {
    if (!error_) error_ = why;
  }
  bool ok() const { return error_ == nullptr; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  const char* error() const { return error_; }

 private:
  std::uint64_t fixed(int bytes);
  std::string_view in_;
  std::size_t pos_ = 0;
  const char* error_ = nullptr;
};

// The message record as stored in `messages`: the envelope and per-message state. Recipients
// live in their own table (so settling one does not rewrite the envelope); the body in chunks.
struct StoredMessage {
  QueueId id;
  Envelope envelope;
  TimeMs delay_warning_sent_ms = 0;
  std::uint64_t body_size = 0;  // bytes in `bodies` (the truth for read_body)
  std::uint32_t chunks = 0;     // number of body chunks
};

std::string encode_message(const StoredMessage& m);
Result<StoredMessage> decode_message(std::string_view bytes);

std::string encode_recipient(const RecipientRecord& r);
Result<RecipientRecord> decode_recipient(std::string_view bytes);

struct QuarantineValue {
  TimeMs quarantined_ms = 0;
  std::string reason;
  std::string raw;  // the original bytes, untouched
};
std::string encode_quarantine(const QuarantineValue& q);
Result<QuarantineValue> decode_quarantine(std::string_view bytes);

std::string encode_schema(std::uint32_t schema_version);
Result<std::uint32_t> decode_schema(std::string_view bytes);

// One attempt, as recipient records and delivery events store it. `version` is the recipient
// layout the bytes were written with (kRecipientVersion for everything written now).
void put_attempt(Writer& w, const Attempt& a);
Attempt get_attempt(Reader& r, std::uint8_t version = kRecipientVersion);

}  // namespace ferry::queue::codec
