// AddressParser: RFC 5321 §4.1.2 Reverse-path / Forward-path / Mailbox syntax, with RFC 6531
// UTF-8 and the §4.5.3.1 size limits. Contract: pure; reports the first problem as an
// AddressError; a source route (<@a,@b:user@c>) is validated and dropped (§4.1.1.3, §C).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::smtp {

enum class PathKind {
  Reverse,  // MAIL FROM: "<>" allowed
  Forward,  // RCPT TO: "<postmaster>" (no domain, any case) allowed (§4.5.1)
};

enum class AddressError {
  None,
  Syntax,            // not a Path per §4.1.2
  LocalPartTooLong,  // > 64 octets (§4.5.3.1.1)
  DomainTooLong,     // > 255 octets (§4.5.3.1.2)
  PathTooLong,       // > 256 octets including "<" and ">" (§4.5.3.1.3)
  Utf8NotAllowed,    // non-ASCII octets while SMTPUTF8 was not given (RFC 6531 §3.3)
};

const char* to_string(AddressError error) noexcept;

struct AddressLimits {
  std::size_t local_part = 64;
  std::size_t domain = 255;
  std::size_t path = 256;
};

struct ParsedPath {
  std::string address;     // "local@domain" as written (quoted local parts keep their quotes),
                           // "postmaster" alone, or empty for "<>"
  std::string local_part;  // as written
  std::string domain;      // as written, address literals keep their brackets; empty if none
  bool null_path = false;  // "<>"
  bool utf8 = false;       // contains non-ASCII octets (needs SMTPUTF8)
};

struct PathParseResult {
  AddressError error = AddressError::None;
  ParsedPath path;
  std::size_t consumed = 0;  // octets of `text` up to and including '>' (when no error)
  bool ok() const { return error == AddressError::None; }
};

// Parses a Path at the start of `text` (which must begin with '<'); text after '>' is left for
// the caller (ESMTP parameters). With allow_utf8 false, any non-ASCII octet is Utf8NotAllowed.
PathParseResult parse_path(std::string_view text, PathKind kind, bool allow_utf8,
                           const AddressLimits& limits = {});

// §4.1.2 Domain (sub-domain *("." sub-domain)), with U-labels when allow_utf8 (RFC 6531 §3.3).
bool is_valid_domain(std::string_view domain, bool allow_utf8);
// §4.1.3 address-literal including the brackets: IPv4, "IPv6:..." or General-address-literal.
bool is_valid_address_literal(std::string_view literal);

}  // namespace ferry::smtp
