// Codec: see Codec.hpp. Layouts are listed field by field in queue/README.md ("Stored values").
#include "queue/Codec.hpp"

namespace ferry::queue::codec {

void Writer::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

std::uint8_t Reader::u8() {
  if (!ok()) return 0;
  if (remaining() < 1) {
    fail("truncated");
    return 0;
  }
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint64_t Reader::fixed(int bytes) {
  if (!ok()) return 0;
  if (remaining() < static_cast<std::size_t>(bytes)) {
    fail("truncated");
    return 0;
  }
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (i * 8);
  pos_ += bytes;
  return v;
}

std::uint64_t Reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (!ok()) return 0;
    if (remaining() < 1) {
      fail("truncated varint");
      return 0;
    }
    auto b = static_cast<unsigned char>(in_[pos_++]);
    // The 10th byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && b > 1) {
      fail("varint overflow");
      return 0;
    }
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("varint too long");
  return 0;
}

std::string Reader::str() {
  auto n = varint();
  if (!ok()) return {};
  if (n > remaining()) {
    fail("truncated string");
    return {};
  }
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

bool Reader::boolean() {
  auto b = u8();
  if (b > 1) fail("bad boolean");
  return b == 1;
}

namespace {

Error corrupt(const char* what, const Reader& r) {
  return make_error(ErrorKind::Corrupt, std::string(what) + ": " + (r.error() ? r.error() : "bad value"));
}

// Shared tail check: a decoder that did not consume every byte read a different layout.
bool finish(Reader& r) {
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  return r.ok();
}

}  // namespace

void put_attempt(Writer& w, const Attempt& a) {
  w.i64(a.time_ms);
  w.u8(static_cast<std::uint8_t>(a.outcome));
  w.str(a.host);
  w.str(a.ip);
  w.u16(a.port);
  w.u32(static_cast<std::uint32_t>(a.code));
  w.str(a.status);
  w.str(a.reply);
  w.str(a.tls);
  w.u8(a.status_derived ? 1 : 0);
}

Attempt get_attempt(Reader& r, std::uint8_t version) {
  Attempt a;
  a.time_ms = r.i64();
  auto outcome = r.u8();
  if (outcome > static_cast<std::uint8_t>(AttemptOutcome::Expired)) r.fail("bad attempt outcome");
  a.outcome = static_cast<AttemptOutcome>(outcome);
  a.host = r.str();
  a.ip = r.str();
  a.port = r.u16();
  a.code = static_cast<int>(static_cast<std::int32_t>(r.u32()));
  a.status = r.str();
  a.reply = r.str();
  if (version >= 2) a.tls = r.str();
  if (version >= 3) a.status_derived = r.boolean();
  return a;
}

std::string encode_message(const StoredMessage& m) {
  Writer w;
  w.u8(kMessageVersion);
  w.u64(m.id.value);
  const Envelope& e = m.envelope;
  w.str(e.reverse_path);
  w.varint(e.recipients.size());
  for (const auto& rcpt : e.recipients) {
    w.str(rcpt.address);
    w.str(rcpt.orcpt);
    w.u8(rcpt.notify);
  }
  w.u8(static_cast<std::uint8_t>(e.ret));
  w.str(e.envid);
  w.u8(static_cast<std::uint8_t>(e.body_type));
  w.u8(e.smtputf8 ? 1 : 0);
  w.str(e.client.address);
  w.str(e.client.helo);
  w.str(e.client.auth_user);
  w.str(e.client.protocol);
  w.i64(e.arrival_ms);
  w.u64(e.size);
  w.i64(m.delay_warning_sent_ms);
  w.u64(m.body_size);
  w.u32(m.chunks);
  w.u8(e.require_tls ? 1 : 0);
  w.str(e.message_id);
  return w.take();
}

Result<StoredMessage> decode_message(std::string_view bytes) {
  Reader r(bytes);
  const std::uint8_t version = r.u8();
  if (version < 1 || version > kMessageVersion) {
    if (r.ok()) r.fail("unknown message version");
    return corrupt("message", r);
  }
  StoredMessage m;
  m.id.value = r.u64();
  Envelope& e = m.envelope;
  e.reverse_path = r.str();
  auto n = r.varint();
  // Each recipient takes at least 3 bytes: a count larger than that is garbage, and checking
  // first keeps a corrupt count from reserving gigabytes.
  if (n > r.remaining() / 3) r.fail("bad recipient count");
  for (std::uint64_t i = 0; r.ok() && i < n; ++i) {
    EnvelopeRecipient rcpt;
    rcpt.address = r.str();
    rcpt.orcpt = r.str();
    rcpt.notify = r.u8();
    e.recipients.push_back(std::move(rcpt));
  }
  auto ret = r.u8();
  if (ret > static_cast<std::uint8_t>(DsnRet::Hdrs)) r.fail("bad RET");
  e.ret = static_cast<DsnRet>(ret);
  e.envid = r.str();
  auto body_type = r.u8();
  if (body_type > static_cast<std::uint8_t>(BodyType::BinaryMime)) r.fail("bad body type");
  e.body_type = static_cast<BodyType>(body_type);
  e.smtputf8 = r.boolean();
  e.client.address = r.str();
  e.client.helo = r.str();
  e.client.auth_user = r.str();
  e.client.protocol = r.str();
  e.arrival_ms = r.i64();
  e.size = r.u64();
  m.delay_warning_sent_ms = r.i64();
  m.body_size = r.u64();
  m.chunks = r.u32();
  if (version >= 2) e.require_tls = r.boolean();
  if (version >= 3) e.message_id = r.str();
  if (!finish(r)) return corrupt("message", r);
  return m;
}

std::string encode_recipient(const RecipientRecord& rec) {
  Writer w;
  w.u8(kRecipientVersion);
  w.u32(rec.index);
  w.u8(static_cast<std::uint8_t>(rec.state));
  w.u8(rec.leased ? 1 : 0);
  w.u32(rec.attempts);
  w.u32(rec.interrupted);
  w.i64(rec.next_attempt_ms);
  w.i64(rec.first_attempt_ms);
  // "Not tried yet" is the presence byte 0, never a zeroed Attempt: every layout since version 1
  // writes it, so an attempt made at time 0 is still an attempt and old records read the same.
  w.u8(rec.last ? 1 : 0);
  if (rec.last) put_attempt(w, *rec.last);
  w.varint(rec.history.size());
  for (const auto& a : rec.history) put_attempt(w, a);
  return w.take();
}

Result<RecipientRecord> decode_recipient(std::string_view bytes) {
  Reader r(bytes);
  const std::uint8_t version = r.u8();
  if (version < 1 || version > kRecipientVersion) {
    if (r.ok()) r.fail("unknown recipient version");
    return corrupt("recipient", r);
  }
  RecipientRecord rec;
  rec.index = r.u32();
  auto state = r.u8();
  if (state > static_cast<std::uint8_t>(RecipientState::Held)) r.fail("bad recipient state");
  rec.state = static_cast<RecipientState>(state);
  rec.leased = r.boolean();
  rec.attempts = r.u32();
  if (version >= 3) rec.interrupted = r.u32();
  rec.next_attempt_ms = r.i64();
  rec.first_attempt_ms = r.i64();
  if (r.boolean()) rec.last = get_attempt(r, version);
  auto n = r.varint();
  // An attempt takes at least 21 bytes; see decode_message for why the bound is checked first.
  if (n > r.remaining() / 21) r.fail("bad history count");
  for (std::uint64_t i = 0; r.ok() && i < n; ++i) rec.history.push_back(get_attempt(r, version));
  if (!finish(r)) return corrupt("recipient", r);
  return rec;
}

std::string encode_quarantine(const QuarantineValue& q) {
  Writer w;
  w.u8(kQuarantineVersion);
  w.i64(q.quarantined_ms);
  w.str(q.reason);
  w.str(q.raw);
  return w.take();
}

Result<QuarantineValue> decode_quarantine(std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kQuarantineVersion) {
    if (r.ok()) r.fail("unknown quarantine version");
    return corrupt("quarantine", r);
  }
  QuarantineValue q;
  q.quarantined_ms = r.i64();
  q.reason = r.str();
  q.raw = r.str();
  if (!finish(r)) return corrupt("quarantine", r);
  return q;
}

std::string encode_schema(std::uint32_t schema_version) {
  Writer w;
  w.u8(kMetaVersion);
  w.u32(schema_version);
  return w.take();
}

Result<std::uint32_t> decode_schema(std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kMetaVersion) {
    if (r.ok()) r.fail("unknown meta version");
    return corrupt("schema", r);
  }
  auto v = r.u32();
  if (!finish(r)) return corrupt("schema", r);
  return v;
}

}  // namespace ferry::queue::codec
