// FromDomain: the domain of the author (the From: header field) that picks the signing domain.
// Contract: pure; RFC 5322 §3.4 mailbox-list with comments, quoted strings and groups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::dkim {

// The lower-case domains of every mailbox in a From: value (the text after the colon), in order;
// address literals ("[192.0.2.1]") and mailboxes without '@' are left out.
std::vector<std::string> address_domains(std::string_view value);

}  // namespace ferry::dkim
