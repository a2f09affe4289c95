// OriginalMessage: read-only views into the stored message a DSN reports on (RFC 5322 §2.1).
// Contract: pure, never copies the body; tolerant of LF-only input; finds header fields by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::dsn {

struct OriginalMessage {
  // The header section including the line break of its last field, without the empty line.
  std::string_view header_section;
  // Everything after the empty line (empty when the message has no body).
  std::string_view body;
};

// Splits at the first empty line. A message without one is all header section (RFC 5322 §3.5:
// the body is optional); a message starting with an empty line has no header fields.
OriginalMessage split_message(std::string_view message);

// The length of the longest prefix of `header_section` that holds only complete header fields
// (a field with all its continuation lines, RFC 5322 §2.2.3) and is at most `max` octets.
std::size_t header_fields_prefix(std::string_view header_section, std::uint64_t max);

// The first field named `name` (case-insensitive), unfolded (RFC 5322 §2.2.3: CRLF before WSP
// removed) and trimmed; nullopt when absent.
std::optional<std::string> header_value(std::string_view header_section, std::string_view name);

// The first "<...>" msg-id in a Message-ID value (RFC 5322 §3.6.4), or "" when there is none or
// it is unusable in our headers (controls, spaces, longer than 900 octets).
std::string first_msg_id(std::string_view value);

}  // namespace ferry::dsn
