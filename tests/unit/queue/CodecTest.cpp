// CodecTest: round-trips of every stored value and key; bad input gives errors, never a crash.
#include <gtest/gtest.h>

#include <random>

#include "QueueTestSupport.hpp"
#include "queue/Codec.hpp"
#include "queue/Schema.hpp"

namespace ferry::queue {
namespace {

using namespace codec;

StoredMessage sample_stored() {
  StoredMessage m;
  m.id = QueueId{0x0123456789ABCDEFull};
  m.envelope = test::sample_envelope(3);
  m.envelope.arrival_ms = -5;  // signed values survive
  m.delay_warning_sent_ms = 1234567;
  m.body_size = 5u << 20;
  m.chunks = 20;
  return m;
}

RecipientRecord sample_recipient() {
  RecipientRecord r;
  r.index = 7;
  r.state = RecipientState::Held;
  r.leased = true;
  r.attempts = 3;
  r.interrupted = 1;
  r.next_attempt_ms = 99999;
  r.first_attempt_ms = 11111;
  r.last = test::sample_attempt(AttemptOutcome::Transient, 5);
  r.last->code = -1;
  r.history = {test::sample_attempt(AttemptOutcome::Started, 1),
               test::sample_attempt(AttemptOutcome::Expired, 2)};
  return r;
}

TEST(queue_codec, MessageRoundTripsEveryField) {
  auto m = sample_stored();
  auto d = decode_message(encode_message(m));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->id, m.id);
  const auto &a = d->envelope, &b = m.envelope;
  EXPECT_EQ(a.reverse_path, b.reverse_path);
  ASSERT_EQ(a.recipients.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.recipients[i].address, b.recipients[i].address);
    EXPECT_EQ(a.recipients[i].orcpt, b.recipients[i].orcpt);
    EXPECT_EQ(a.recipients[i].notify, b.recipients[i].notify);
  }
  EXPECT_EQ(a.ret, b.ret);
  EXPECT_EQ(a.envid, b.envid);
  EXPECT_EQ(a.body_type, b.body_type);
  EXPECT_EQ(a.smtputf8, b.smtputf8);
  EXPECT_EQ(a.client.address, b.client.address);
  EXPECT_EQ(a.client.helo, b.client.helo);
  EXPECT_EQ(a.client.auth_user, b.client.auth_user);
  EXPECT_EQ(a.client.protocol, b.client.protocol);
  EXPECT_EQ(a.arrival_ms, -5);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(d->delay_warning_sent_ms, m.delay_warning_sent_ms);
  EXPECT_EQ(d->body_size, m.body_size);
  EXPECT_EQ(d->chunks, m.chunks);
}

TEST(queue_codec, RecipientRoundTripsEveryField) {
  auto r = sample_recipient();
  r.history[1].status_derived = true;
  auto d = decode_recipient(encode_recipient(r));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->index, r.index);
  EXPECT_EQ(d->state, r.state);
  EXPECT_EQ(d->leased, r.leased);
  EXPECT_EQ(d->attempts, r.attempts);
  EXPECT_EQ(d->interrupted, r.interrupted);
  EXPECT_EQ(d->next_attempt_ms, r.next_attempt_ms);
  EXPECT_EQ(d->first_attempt_ms, r.first_attempt_ms);
  ASSERT_TRUE(d->last);
  EXPECT_EQ(test::describe(*d->last), test::describe(*r.last));
  ASSERT_EQ(d->history.size(), 2u);
  EXPECT_EQ(test::describe(d->history[0]), test::describe(r.history[0]));
  EXPECT_EQ(test::describe(d->history[1]), test::describe(r.history[1]));

  RecipientRecord empty;
  auto e = decode_recipient(encode_recipient(empty));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->last);
  EXPECT_TRUE(e->history.empty());
}

// "No attempt yet" is said by the presence byte alone: an attempt whose fields are all zero (a
// default Attempt, time 0) is stored and read back as an attempt, and its absence as none.
TEST(queue_codec, ZeroAttemptIsStillAnAttempt) {
  RecipientRecord r;
  r.last = Attempt{};
  auto d = decode_recipient(encode_recipient(r));
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(d->last);
  EXPECT_EQ(d->last->time_ms, 0);
  EXPECT_EQ(d->last->outcome, AttemptOutcome::Started);
  RecipientRecord none;
  const std::string with = encode_recipient(r);
  const std::string without = encode_recipient(none);
  EXPECT_NE(with, without);
  auto n = decode_recipient(without);
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->last);
}

// Older layouts, made from today's bytes of a record whose only attempt is `last` (empty
// history): version 2 has no interrupted count (the u32 after version, index, state, leased and
// attempts) and no status_derived flag (the attempt's last byte, before the empty history count);
// version 1 in addition no TLS string.
std::string as_version_2(std::string v3) {
  v3.erase(v3.size() - 2, 1);
  v3.erase(11, 4);
  v3[0] = 2;
  return v3;
}

// A queue written before Attempt::tls existed (recipient version 1) is still read: the same
// bytes without the TLS string, under version byte 1.
TEST(queue_codec, VersionOneRecipientWithoutTlsIsRead) {
  RecipientRecord r;
  r.index = 3;
  r.last = test::sample_attempt(AttemptOutcome::Transient, 5);
  r.last->tls.clear();
  std::string v1 = as_version_2(encode_recipient(r));
  ASSERT_EQ(v1[v1.size() - 2], '\0');  // the empty TLS string, before the empty history count
  v1.erase(v1.size() - 2, 1);
  v1[0] = 1;
  auto d = decode_recipient(v1);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(d->last);
  EXPECT_EQ(d->last->reply, "try again later");
  EXPECT_EQ(d->last->tls, "");
  EXPECT_EQ(d->interrupted, 0u);
  // The version-2 bytes read as version 1 are one byte too long: an error, not a misread.
  std::string v2 = as_version_2(encode_recipient(r));
  v2[0] = 1;
  EXPECT_FALSE(decode_recipient(v2));
}

// Version 2 (before Attempt::status_derived) is read with the flag false: the status is taken
// as the remote's own, as those versions reported it.
TEST(queue_codec, VersionTwoRecipientWithoutStatusDerivedIsRead) {
  RecipientRecord r;
  r.index = 3;
  r.last = test::sample_attempt(AttemptOutcome::Transient, 5);
  auto d = decode_recipient(as_version_2(encode_recipient(r)));
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(d->last);
  EXPECT_EQ(d->last->tls, "TLSv1.3/TLS_AES_256_GCM_SHA384");
  EXPECT_FALSE(d->last->status_derived);
  r.last->status_derived = true;
  auto e = decode_recipient(encode_recipient(r));
  ASSERT_TRUE(e && e->last);
  EXPECT_TRUE(e->last->status_derived);
}

// A queue written before the interrupted count existed (version 2) is still read, as never
// interrupted; version 3 keeps the count.
TEST(queue_codec, VersionTwoRecipientWithoutInterruptedCountIsRead) {
  RecipientRecord r = sample_recipient();
  r.history.clear();  // as_version_2 rewrites the one attempt, `last`
  r.interrupted = 2;
  auto v3 = decode_recipient(encode_recipient(r));
  ASSERT_TRUE(v3) << v3.error().message;
  EXPECT_EQ(v3->interrupted, 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(encode_recipient(r)[0]), 3u);
  auto v2 = decode_recipient(as_version_2(encode_recipient(r)));
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->interrupted, 0u);
  EXPECT_EQ(v2->attempts, r.attempts);
  EXPECT_EQ(v2->next_attempt_ms, r.next_attempt_ms);
  EXPECT_EQ(v2->history.size(), r.history.size());
  ASSERT_TRUE(v2->last);
  EXPECT_EQ(v2->last->tls, r.last->tls);
  // A version this build does not know is an error, never a guess.
  std::string v4 = encode_recipient(r);
  v4[0] = 4;
  EXPECT_FALSE(decode_recipient(v4));
}

// REQUIRETLS (RFC 8689) is kept from acceptance to delivery; a message written before the flag
// existed (version 1: the same bytes without the last one) reads as a message without it.
TEST(queue_codec, MessageRequireTlsRoundTripsAndVersionOneReadsWithout) {
  StoredMessage m = sample_stored();
  m.envelope.require_tls = true;
  auto d = decode_message(encode_message(m));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->envelope.require_tls);
  m.envelope.require_tls = false;
  EXPECT_FALSE(decode_message(encode_message(m))->envelope.require_tls);

  m.envelope.require_tls = true;
  std::string v1 = encode_message(m);
  v1.pop_back();  // the empty Message-ID (version 3)
  v1.pop_back();  // REQUIRETLS (version 2)
  v1[0] = 1;
  auto old = decode_message(v1);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_FALSE(old->envelope.require_tls);
  EXPECT_EQ(old->chunks, m.chunks);
  EXPECT_EQ(old->envelope.reverse_path, m.envelope.reverse_path);
  // Version 3 bytes under version 1 are too long: an error, not a misread.
  std::string wrong = encode_message(m);
  wrong[0] = 1;
  EXPECT_FALSE(decode_message(wrong));
  std::string v4 = encode_message(m);
  v4[0] = 4;
  EXPECT_FALSE(decode_message(v4));
}

// The Message-ID (for delivery events) is kept; a version 2 record (without it) reads as none.
TEST(queue_codec, MessageIdRoundTripsAndVersionTwoReadsWithout) {
  StoredMessage m = sample_stored();
  m.envelope.message_id = "20261208.abc@example.org";
  auto d = decode_message(encode_message(m));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->envelope.message_id, m.envelope.message_id);
  m.envelope.message_id.clear();
  std::string v2 = encode_message(m);
  v2.pop_back();
  v2[0] = 2;
  auto old = decode_message(v2);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->envelope.message_id, "");
  EXPECT_EQ(old->envelope.require_tls, m.envelope.require_tls);
}

TEST(queue_codec, QuarantineAndSchemaRoundTrip) {
  QuarantineValue q{77, "bad version", std::string("\x00\xff garbage", 10)};
  auto d = decode_quarantine(encode_quarantine(q));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->quarantined_ms, 77);
  EXPECT_EQ(d->reason, q.reason);
  EXPECT_EQ(d->raw, q.raw);
  auto s = decode_schema(encode_schema(schema::kSchemaVersion));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, schema::kSchemaVersion);
}

TEST(queue_codec, EveryTruncationIsAnError) {
  for (const std::string& full : {encode_message(sample_stored()), encode_recipient(sample_recipient()),
                                  encode_quarantine({1, "r", "raw"}), encode_schema(1)}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::string_view cut(full.data(), n);
      EXPECT_FALSE(decode_message(cut) && decode_recipient(cut) && decode_quarantine(cut) &&
                   decode_schema(cut));
    }
  }
  for (std::size_t n = 0; n < encode_message(sample_stored()).size(); ++n) {
    auto r = decode_message(std::string_view(encode_message(sample_stored())).substr(0, n));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
  }
  auto rec = encode_recipient(sample_recipient());
  for (std::size_t n = 0; n < rec.size(); ++n)
    EXPECT_FALSE(decode_recipient(std::string_view(rec).substr(0, n)));
}

TEST(queue_codec, TrailingBytesAndWrongVersionAreErrors) {
  auto m = encode_message(sample_stored());
  EXPECT_FALSE(decode_message(m + "x"));
  auto r = encode_recipient(sample_recipient());
  EXPECT_FALSE(decode_recipient(r + std::string(1, '\0')));
  m[0] = 4;  // a version this build does not know
  auto bad = decode_message(m);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Corrupt);
  r[0] = 0;
  EXPECT_FALSE(decode_recipient(r));
  EXPECT_FALSE(decode_schema(std::string("\x09\x01\x00\x00\x00", 5)));
}

TEST(queue_codec, BadEnumsAndBooleansAreErrors) {
  auto r = encode_recipient(sample_recipient());
  auto s = r;
  s[5] = 9;  // state byte (after version + u32 index)
  EXPECT_FALSE(decode_recipient(s));
  s = r;
  s[6] = 2;  // leased must be 0/1
  EXPECT_FALSE(decode_recipient(s));
}

TEST(queue_codec, RandomGarbageNeverCrashes) {
  std::mt19937 rng(42);
  auto m = encode_message(sample_stored());
  auto r = encode_recipient(sample_recipient());
  for (int i = 0; i < 3000; ++i) {
    std::string s = (i % 2 ? m : r);
    int flips = 1 + rng() % 4;
    for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<char>(rng());
    if (i % 3 == 0) s.resize(rng() % s.size());
    (void)decode_message(s);
    (void)decode_recipient(s);
    (void)decode_quarantine(s);
  }
  std::string huge_count("\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x0f", 15);
  EXPECT_FALSE(decode_message(huge_count));
  std::string long_varint(1, '\x01');
  long_varint += std::string(20, '\xff');
  EXPECT_FALSE(decode_message(long_varint));
}

TEST(queue_schema, KeysSortNumericallyAndParseBack) {
  using namespace schema;
  EXPECT_LT(message_key(QueueId{255}), message_key(QueueId{256}));
  EXPECT_LT(due_key(1000, QueueId{9}, 0), due_key(1001, QueueId{1}, 0));
  EXPECT_LT(due_key(-7, QueueId{1}, 0), due_key(0, QueueId{2}, 0));
  auto d = parse_due_key(due_key(0x1122334455, QueueId{0xAABBCCDDEEFF0011ull}, 0x01020304));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->due, 0x1122334455u);
  EXPECT_EQ(d->id.value, 0xAABBCCDDEEFF0011ull);
  EXPECT_EQ(d->index, 0x01020304u);
  auto s = parse_sub_key(body_key(QueueId{5}, 6));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id.value, 5u);
  EXPECT_EQ(s->n, 6u);
  EXPECT_TRUE(body_key(QueueId{5}, 0).starts_with(message_key(QueueId{5})));
  auto q = parse_quarantine_key(quarantine_key("recipients", std::string("\x00\x01", 2)));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->table, "recipients");
  EXPECT_EQ(q->key, std::string("\x00\x01", 2));
  EXPECT_FALSE(parse_due_key("short"));
  EXPECT_FALSE(parse_sub_key("short"));
  EXPECT_FALSE(parse_message_key("short"));
  EXPECT_EQ(to_hex(std::string("\x01\xab", 2)), "01ab");
}

}  // namespace
}  // namespace ferry::queue
