// Masquerade: locally submitted mail from a host-local address (root@vm) leaves with the
// configured domain (root@example.com) in its envelope sender and From: field (dma's MASQUERADE,
// Postfix's masquerade_domains). Contract: pure; only addresses whose domain is one of
// `local_domains` (case-insensitive) change, the local part never does; an inactive rule (empty
// domain) changes nothing; the message outside the From: field stays byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::smtp {

struct MasqueradeRule {
  std::string domain;                      // the domain to put in; empty = off
  std::vector<std::string> local_domains;  // the domains it replaces
  bool active() const { return !domain.empty(); }
};

// "root@vm" -> "root@example.com"; anything else (other domains, "<>", no '@') unchanged.
std::string masquerade_address(std::string_view address, const MasqueradeRule& rule);

// Masquerades every address in the first From: field of `message` (header, blank line, body; CRLF
// or LF line ends), folded continuation lines included. In place: only the field is rebuilt, so
// a large body is moved, never copied.
void masquerade_from_field(std::string& message, const MasqueradeRule& rule);

}  // namespace ferry::smtp
