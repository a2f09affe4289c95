// Xtext: decoding of RFC 3461 §4 xtext, the encoding of ORCPT addresses in the envelope.
// Contract: pure and total; a malformed "+HH" is kept as written rather than rejected.
#pragma once

#include <string>
#include <string_view>

namespace ferry::dsn {

// "+2B" → "+", "a+3Db" → "a=b". A '+' not followed by two upper-case hex digits is copied.
std::string xtext_decode(std::string_view xtext);

// An ORCPT value "addr-type;xtext" (RFC 3461 §4.2) split into its type and decoded address, for
// the Original-Recipient field (RFC 3464 §2.3.1: "address-type ; generic-address"). Without ';'
// the whole value is the address and the type is "rfc822".
struct OriginalRecipient {
  std::string type;
  std::string address;
};
OriginalRecipient parse_orcpt(std::string_view orcpt);

}  // namespace ferry::dsn
