#include "mta/smtp/RelayPolicy.hpp"

#include "ferry/text/Ascii.hpp"
#include "mta/smtp/ReplyText.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

namespace {
// "<address>: reason" (built with append: GCC 12 warns falsely on chained operator+).
std::string bracketed(std::string_view address, std::string_view reason) {
  std::string text;
  text.reserve(address.size() + reason.size() + 4);
  text.append("<").append(address).append(">: ").append(reason);
  return text;
}

// A local part that names another destination: '%' and '!' (the old percent hack and UUCP
// bang paths) or an '@' inside a quoted local part.
bool has_routing(std::string_view local) { return local.find_first_of("%!@") != std::string_view::npos; }
}  // namespace

RelayPolicy::RelayPolicy(RelayRules rules) : rules_(std::move(rules)) {
  // Keys are matched in lower case.
  std::map<std::string, std::string> lowered;
  for (auto& [k, v] : rules_.aliases) lowered.emplace(to_lower(k), v);
  rules_.aliases = std::move(lowered);
}

bool RelayPolicy::is_local_domain(std::string_view domain) const {
  for (const auto& d : rules_.local_domains)
    if (iequals(d, domain)) return true;
  return false;
}

bool RelayPolicy::is_relay_domain(std::string_view domain) const {
  for (const auto& d : rules_.relay_domains)
    if (iequals(d, domain)) return true;
  return false;
}

RecipientDecision RelayPolicy::local_recipient(std::string_view address, std::string_view local,
                                               std::string_view domain, bool trusted) const {
  const std::string full = to_lower(address);
  if (auto it = rules_.aliases.find(full); it != rules_.aliases.end())
    return RecipientDecision::rewrite(it->second);
  if (auto it = rules_.aliases.find(to_lower(local)); it != rules_.aliases.end())
    return RecipientDecision::rewrite(it->second);
  // A relay-only host has no mailboxes: root, cron's users, postmaster and abuse reach the admin
  // (dma's and nullmailer's answer); the ORCPT and X-Original-To keep who it was for.
  if (!rules_.admin.empty()) return RecipientDecision::rewrite_to_admin(rules_.admin);
  if (iequals(local, "postmaster")) {
    // RFC 5321 §4.5.1: postmaster is always accepted. Without an alias, a bare "postmaster" is
    // qualified with our first local domain so it stays routable (RFC 6409 §4.2 spirit).
    if (domain.empty() && !rules_.local_domains.empty())
      return RecipientDecision::rewrite(std::string(local) + "@" + rules_.local_domains.front());
    return RecipientDecision::accept();
  }
  // Our own users (cron, a local app) are told the fix; a stranger only learns the user is unknown.
  if (trusted) {
    std::string fix = "no alias; set [local] admin or [aliases] ";
    fix.append(local);
    return RecipientDecision::reject(make_reply(550, "5.1.1", bracketed(address, fix)));
  }
  return RecipientDecision::reject(make_reply(
      550, "5.1.1", bracketed(address, "Recipient address rejected: User unknown in local recipient table")));
}

RecipientDecision RelayPolicy::decide(std::string_view address, bool client_in_relay_networks,
                                      bool authenticated) const {
  // Split at the last '@' (a quoted local part may contain '@').
  const std::size_t at = address.rfind('@');
  std::string_view local = at == std::string_view::npos ? address : address.substr(0, at);
  std::string_view domain = at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);

  const bool trusted = client_in_relay_networks || authenticated;
  if (domain.empty() || is_local_domain(domain)) return local_recipient(address, local, domain, trusted);
  if (is_relay_domain(domain)) {
    // Sender-specified routing (RFC 5321 §3.6.1, §7.9): the next hop could read "u%evil",
    // "u!evil" or "u@evil" in the local part as a further destination and relay there for an
    // untrusted client (Postfix's allow_untrusted_routing = no).
    if (!trusted && has_routing(local))
      return RecipientDecision::reject(
          make_reply(550, "5.7.1", bracketed(address, "Relay access denied (sender-specified routing)")));
    return RecipientDecision::accept();
  }
  if (trusted) return RecipientDecision::accept();
  // RFC 5321 §7.9 / RFC 3463 X.7.1: delivery not authorised.
  return RecipientDecision::reject(make_reply(554, "5.7.1", bracketed(address, "Relay access denied")));
}

}  // namespace ferry::smtp
