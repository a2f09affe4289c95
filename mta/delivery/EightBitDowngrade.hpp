// EightBitDowngrade: turns a message with an 8-bit body into a 7-bit one for a server without
// 8BITMIME (RFC 6152 §3 lets the client convert, RFC 2045 §6.7 says how). Contract: pure; the
// message is CRLF lines as stored; 8-bit text/* parts (single-part or inside multipart/* and
// message/rfc822, recursively) become quoted-printable with lines of at most 76 octets and the
// CRLF line breaks kept; parts without 8-bit octets are copied byte for byte. What cannot be
// converted fails: 8-bit header fields (an internationalized message, RFC 6532) and 8-bit
// non-text parts (their meaning is in the octets; only base64 could carry them, and re-encoding
// a part the sender labelled 8bit binary-safe is not a conversion this relay makes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::delivery {

enum class DowngradeFailure : std::uint8_t {
  None,
  EightBitHeader,  // a header field (of the message or of a part) has 8-bit octets
  NotText,         // an 8-bit part that is not text/* (or 8-bit preamble/epilogue)
  Malformed,       // 8-bit data in a part already declared base64/quoted-printable, or a
                   // multipart without its boundary
};

struct Downgrade {
  std::string message;  // the converted message when failure == None
  DowngradeFailure failure = DowngradeFailure::None;
  std::string detail;  // what could not be converted, for the reply text
  bool ok() const { return failure == DowngradeFailure::None; }
};

Downgrade downgrade_8bit(std::string_view message);

// RFC 2045 §6.7 quoted-printable of `text`: CRLF are hard line breaks and stay; every other
// octet outside 33..126 (and '=') is =XX; a space or tab before a line break is encoded; soft
// line breaks ("=" CRLF) keep each encoded line at 76 octets or less.
std::string quoted_printable(std::string_view text);

}  // namespace ferry::delivery
