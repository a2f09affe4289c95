// RelayPolicy: pure relay control for RCPT TO (RFC 5321 §7.9, §4.5.1; Postfix's
// smtpd_relay_restrictions). Contract: never an open relay: a domain that is neither local nor
// a relay domain is accepted only from relay networks or authenticated clients; local domains
// accept only aliases, postmaster and, when an admin address is set, every other local part
// (rewritten to it); matching is case-insensitive for domains and local parts;
// an untrusted client may not route through a relay domain with '%', '!' or a quoted '@'.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mta/smtp/RecipientDecision.hpp"

namespace ferry::smtp {

struct RelayRules {
  std::vector<std::string> local_domains;  // domains we are the final destination for
  // Alias map: key "local" (applies in every local domain) or "local@domain"; value: target
  // address. E.g. {"root", "admin@example.com"}.
  std::map<std::string, std::string> aliases;
  // Where local recipients without an alias go ([local] admin); empty = they are refused.
  std::string admin;
  std::vector<std::string> relay_domains;  // anyone may send to these (backup MX / gateway)
};

class RelayPolicy {
 public:
  explicit RelayPolicy(RelayRules rules);

  // `address` is the forward-path as accepted by the parser ("user@domain" or "postmaster").
  // `client_in_relay_networks`: the client IP matched the listener's relay networks (Cidr).
  RecipientDecision decide(std::string_view address, bool client_in_relay_networks, bool authenticated) const;

  bool is_local_domain(std::string_view domain) const;
  bool is_relay_domain(std::string_view domain) const;

 private:
  RecipientDecision local_recipient(std::string_view address, std::string_view local, std::string_view domain,
                                    bool trusted) const;

  RelayRules rules_;
};

}  // namespace ferry::smtp
