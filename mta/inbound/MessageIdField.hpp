// MessageIdField: the Message-ID of a message as it is queued, for the delivery events.
// Contract: pure; reads at most the header section's first 64 KiB; returns the msg-id without
// its angle brackets (RFC 5322 §3.6.4), or "" when there is none or it is not a plain token of
// printable ASCII of at most 255 octets (so it can go into JSON and logs unchanged).
#pragma once

#include <string>
#include <string_view>

namespace ferry::inbound {

std::string message_id_field(std::string_view message);

}  // namespace ferry::inbound
