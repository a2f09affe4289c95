// OriginalRecipient: an envelope ORCPT value split for the report's Original-Recipient field.
// Contract: pure and total; the address is xtext-decoded when it is valid xtext, else kept as written.
#pragma once

#include <string>
#include <string_view>

namespace ferry::dsn {

// An ORCPT value "addr-type;xtext" (RFC 3461 §4.2) split into its type and decoded address, for
// the Original-Recipient field (RFC 3464 §2.3.1: "address-type ; generic-address"). Without ';'
// the whole value is the address and the type is "rfc822". A report must still be written for a
// malformed value (the bounce is owed whatever the client sent), so such an address is shown as
// written rather than dropped.
struct OriginalRecipient {
  std::string type;
  std::string address;
};
OriginalRecipient parse_orcpt(std::string_view orcpt);

}  // namespace ferry::dsn
