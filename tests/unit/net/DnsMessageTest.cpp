// DnsMessage: the query with the AD bit, and hand-made responses: the AD bit and RCODE, answers
// behind compression pointers and CNAMEs, TLSA RDATA, and malformed packets (loops, forward
// pointers, lengths past the end, absurd counts) that must be refused without overreading.
#include "mta/net/DnsMessage.hpp"

#include <gtest/gtest.h>

namespace ferry::net::dns {
namespace {

std::string u16(unsigned v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)}; }
std::string u32(std::uint32_t v) { return u16(v >> 16) + u16(v & 0xFFFF); }
std::string wire(std::string_view name) {
  std::string out;
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = std::min(name.find('.', start), name.size());
    out.push_back(static_cast<char>(dot - start));
    out.append(name.substr(start, dot - start));
    start = dot + 1;
  }
  return out + std::string(1, '\0');
}
std::string header(unsigned flags, unsigned qd, unsigned an) {
  return u16(0x1234) + u16(flags) + u16(qd) + u16(an) + u16(0) + u16(0);
}
std::string rr(std::string owner_wire, unsigned type, std::uint32_t ttl, std::string rdata) {
  return owner_wire + u16(type) + u16(1) + u32(ttl) + u16(static_cast<unsigned>(rdata.size())) + rdata;
}

TEST(DnsMessage, QueryCarriesAdBitAndOpt) {
  auto q = build_query(7, "_25._tcp.MX.Example.ORG.", kTypeTlsa, true);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->substr(0, 12), u16(7) + u16(0x0120) + u16(1) + u16(0) + u16(0) + u16(1));
  EXPECT_EQ(q->substr(12, 25), wire("_25._tcp.mx.example.org"));
  EXPECT_EQ(q->substr(37, 4), u16(kTypeTlsa) + u16(1));
  EXPECT_EQ(q->substr(41), std::string(1, '\0') + u16(kTypeOpt) + u16(1232) + u16(0) + u16(0) + u16(0));
  auto plain = build_query(7, "example.org", kTypeA, false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->substr(2, 2), u16(0x0100));
}

TEST(DnsMessage, QueryRefusesBadNames) {
  EXPECT_FALSE(build_query(1, "", kTypeA, true));
  EXPECT_FALSE(build_query(1, "a..b", kTypeA, true));
  EXPECT_FALSE(build_query(1, std::string(64, 'a') + ".org", kTypeA, true));
  EXPECT_FALSE(build_query(1, std::string(300, 'a'), kTypeA, true));
}

TEST(DnsMessage, ParsesAdBitRcodeAndCompressedAnswers) {
  // Question at offset 12; the answer's owner is a pointer to it (0xC00C).
  std::string p = header(0x81A0, 1, 2) + wire("mx.example.org") + u16(kTypeA) + u16(1);
  p += rr(u16(0xC00C), kTypeA, 300, std::string("\x7f\x00\x00\x02", 4));
  p += rr(u16(0xC00C), kTypeA, 60, std::string("\xc0\x00\x02\x01", 4));
  auto r = parse_response(p);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->authenticated);
  EXPECT_EQ(r->rcode, kRcodeNoError);
  auto found = answers_of(*r, "MX.example.org.", kTypeA);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(address_text(kTypeA, found[0]->rdata), "127.0.0.2");
  EXPECT_EQ(address_text(kTypeA, found[1]->rdata), "192.0.2.1");
  EXPECT_EQ(found[1]->ttl, 60u);
}

TEST(DnsMessage, NoAdBitAndNxDomain) {
  auto r = parse_response(header(0x8183, 1, 0) + wire("nx.example.org") + u16(kTypeA) + u16(1));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->authenticated);
  EXPECT_EQ(r->rcode, kRcodeNxDomain);
}

TEST(DnsMessage, FollowsCnameToTlsa) {
  std::string p = header(0x81A0, 1, 2) + wire("_25._tcp.mx.example.org") + u16(kTypeTlsa) + u16(1);
  p += rr(u16(0xC00C), kTypeCname, 300, wire("tlsa.example.net"));
  const std::string tlsa = std::string("\x03\x01\x01", 3) + std::string(32, '\xab');
  p += rr(wire("tlsa.example.net"), kTypeTlsa, 300, tlsa);
  auto r = parse_response(p);
  ASSERT_TRUE(r);
  std::string owner;
  auto found = answers_of(*r, "_25._tcp.mx.example.org", kTypeTlsa, &owner);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(owner, "tlsa.example.net");
  auto t = parse_tlsa(found[0]->rdata);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->usage, 3);
  EXPECT_EQ(t->selector, 1);
  EXPECT_EQ(t->mtype, 1);
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "ab";
  EXPECT_EQ(hex(t->data), expected);
}

// MX RDATA: the preference and an exchange compressed against the question; "." (null MX).
TEST(DnsMessage, MxTargetsAreDecompressed) {
  std::string p = header(0x81A0, 1, 2) + wire("example.org") + u16(kTypeMx) + u16(1);
  p += rr(u16(0xC00C), kTypeMx, 300, u16(10) + std::string("\x03mx1", 4) + u16(0xC00C));
  p += rr(u16(0xC00C), kTypeMx, 300, u16(0) + std::string(1, '\0'));
  auto r = parse_response(p);
  ASSERT_TRUE(r);
  auto found = answers_of(*r, "example.org", kTypeMx);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0]->preference, 10);
  EXPECT_EQ(found[0]->target, "mx1.example.org");
  EXPECT_EQ(found[1]->target, "");
  // An exchange whose name runs past its RDATA is refused.
  std::string bad = header(0x8180, 1, 1) + wire("example.org") + u16(kTypeMx) + u16(1);
  bad += rr(u16(0xC00C), kTypeMx, 300, u16(10) + std::string("\x03mx1", 4)) + u16(0xC00C);
  EXPECT_FALSE(parse_response(bad));
}

TEST(DnsMessage, TlsaNeedsData) {
  EXPECT_FALSE(parse_tlsa(std::string("\x03\x01\x01", 3)));
  EXPECT_TRUE(parse_tlsa(std::string("\x03\x01\x01\x00", 4)));
}

TEST(DnsMessage, MalformedPacketsAreRefused) {
  const std::string q = wire("a.example") + u16(kTypeA) + u16(1);
  // Not a response (QR clear).
  EXPECT_FALSE(parse_response(header(0x0100, 1, 0) + q));
  // Short header.
  EXPECT_FALSE(parse_response(std::string("\x12\x34\x81", 3)));
  // A pointer to itself (a loop) and a forward pointer.
  EXPECT_FALSE(parse_response(header(0x8180, 1, 0) + u16(0xC00C) + u16(1) + u16(1)));
  EXPECT_FALSE(parse_response(header(0x8180, 1, 0) + u16(0xC020) + u16(1) + u16(1) + std::string(20, '\0')));
  // Two pointers pointing at each other.
  {
    std::string p = header(0x8180, 1, 1) + q + rr(u16(0xC01D), kTypeA, 1, "abcd");
    p += u16(0xC01B);
    EXPECT_FALSE(parse_response(p));
  }
  // A label running past the end; RDLENGTH past the end.
  EXPECT_FALSE(parse_response(header(0x8180, 1, 0) + std::string("\x3f"
                                                                 "abc",
                                                                 4)));
  EXPECT_FALSE(parse_response(header(0x8180, 1, 1) + q + u16(0xC00C) + u16(kTypeA) + u16(1) + u32(1) +
                              u16(400) + "abcd"));
  // An answer count the packet cannot hold.
  EXPECT_FALSE(parse_response(header(0x8180, 1, 0xFFFF) + q));
  // Obsolete label types (0x40, 0x80).
  EXPECT_FALSE(parse_response(header(0x8180, 1, 0) + std::string("\x41", 1) + std::string(70, 'a')));
  // A name longer than 255 octets.
  {
    std::string name;
    for (int i = 0; i < 5; ++i) name += std::string(1, '\x3f') + std::string(63, 'a');
    EXPECT_FALSE(parse_response(header(0x8180, 1, 0) + name + std::string(1, '\0') + u16(1) + u16(1)));
  }
}

TEST(DnsMessage, EveryTruncationIsRefusedOrParsed) {
  std::string p = header(0x81A0, 1, 1) + wire("mx.example.org") + u16(kTypeA) + u16(1);
  p += rr(u16(0xC00C), kTypeA, 300, std::string("\x7f\x00\x00\x02", 4));
  for (std::size_t n = 0; n < p.size(); ++n) EXPECT_FALSE(parse_response(p.substr(0, n))) << n;
  EXPECT_TRUE(parse_response(p));
}

// Every single-byte change of a valid answer parses or is refused, never reads past the packet
// (bounded: each position takes a few values).
TEST(DnsMessage, MutatedPacketsNeverOverread) {
  std::string p = header(0x81A0, 1, 2) + wire("_25._tcp.mx.example.org") + u16(kTypeTlsa) + u16(1);
  p += rr(u16(0xC00C), kTypeCname, 300, u16(0xC015));
  p += rr(u16(0xC00C), kTypeTlsa, 300, std::string("\x03\x01\x01", 3) + std::string(32, '\xab'));
  for (std::size_t i = 0; i < p.size(); ++i) {
    for (unsigned v : {0x00u, 0x01u, 0x3Fu, 0x40u, 0xC0u, 0xFFu}) {
      std::string m = p;
      m[i] = static_cast<char>(v);
      auto r = parse_response(m);
      if (!r) continue;
      for (const auto& rr : r->answers) EXPECT_LE(rr.rdata.size(), m.size());
      (void)answers_of(*r, "_25._tcp.mx.example.org", kTypeTlsa);
    }
  }
}

TEST(DnsMessage, AddressText) {
  EXPECT_EQ(address_text(kTypeAaaa, std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01"),
            "2001:db8::1");
  EXPECT_EQ(address_text(kTypeA, "abc"), "");
}

}  // namespace
}  // namespace ferry::net::dns
