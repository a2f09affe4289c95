// ReplyCategory: the matching engine over ReplyCategoryTable.cpp's rules (see the header).
#include "mta/delivery/ReplyCategory.hpp"

#include <array>
#include <string>

#include "mta/delivery/NeedleMatcher.hpp"

namespace ferry::delivery {
namespace {

namespace c = category;

constexpr std::array<std::string_view, 21> kAll = {
    c::unknown_user,        c::mailbox_full,   c::mailbox_disabled,
    c::greylisted,          c::rate_limited,   c::blocklisted_ip,
    c::blocklisted_domain,  c::spf_fail,       c::dkim_fail,
    c::dmarc_fail,          c::auth_required,  c::tls_required,
    c::message_too_large,   c::spam_content,   c::policy_rejected,
    c::relay_denied,        c::bad_domain,     c::dns_failure,
    c::service_unavailable, c::protocol_error, c::other,
};

ReplyCategory make(std::string_view cat, std::string_view detail = {}) {
  return {cat, category_advice(cat), detail};
}

// "x.y.z" at the start of `text` (no class check beyond 2/4/5); the characters consumed.
std::size_t parse_status(std::string_view text, EnhancedStatus& out) {
  std::size_t i = 0;
  auto number = [&](int max_digits, int& value) {
    std::size_t start = i;
    value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && static_cast<int>(i - start) < max_digits)
      value = value * 10 + (text[i++] - '0');
    return i > start;
  };
  int k = 0, s = 0, d = 0;
  if (!number(1, k) || (k != 2 && k != 4 && k != 5)) return 0;
  if (i >= text.size() || text[i++] != '.' || !number(3, s)) return 0;
  if (i >= text.size() || text[i++] != '.' || !number(3, d)) return 0;
  if (i < text.size() && text[i] != ' ') return 0;
  out = {static_cast<std::uint8_t>(k), static_cast<std::uint16_t>(s), static_cast<std::uint16_t>(d)};
  return i < text.size() ? i + 1 : i;
}

// Text rules first (strong ones in table order), then the enhanced status, then the first weak
// text rule, then the basic code. `enabled` switches text rules off (see the header).
ReplyCategory classify_text_status(int code, const EnhancedStatus& status, std::string_view text,
                                   std::span<const bool> enabled = {}) {
  const RuleSet matched = match_text_rules(text);
  const std::uint8_t klass = static_cast<std::uint8_t>(code >= 400 && code < 600 ? code / 100 : status.klass);
  const table::TextRule* weak = nullptr;
  const auto& rules = table::text_rules;
  for (std::size_t i = 0; i < rules.size() && i < kMaxTextRules; ++i) {
    if (!matched.test(i) || (i < enabled.size() && !enabled[i])) continue;
    const auto& rule = rules[i];
    if (!rule.also.empty() && !matched.test(kMaxTextRules + i)) continue;
    if (rule.klass && rule.klass != klass) continue;
    if (rule.strong) return make(rule.category, rule.detail);
    if (!weak) weak = &rule;
  }
  for (const auto& rule : table::code_rules)
    if (rule.decisive && rule.code == code) return make(rule.category);
  if (status.present()) {
    for (const auto& rule : table::status_rules)
      if (rule.subject == status.subject && rule.detail == status.detail &&
          (!rule.klass || rule.klass == klass))
        return make(rule.category);
  }
  if (weak) return make(weak->category, weak->detail);
  for (const auto& rule : table::code_rules)
    if (rule.code == code) return make(rule.category);
  return make(c::other);
}

// Local failures without a reply (ReplyClassifier::classify_error): their status is the key.
struct NetworkRow {
  std::string_view status;
  std::string_view category;
  std::string_view detail;
  std::string_view advice;
};

constexpr NetworkRow kNetwork[] = {
    {"5.1.2", c::bad_domain, "NXDOMAIN",
     "The recipient domain does not exist in DNS: check the address for typos."},
    {"5.1.10", c::bad_domain, "null MX",
     "The domain publishes a null MX (RFC 7505): it accepts no mail at all."},
    {"5.4.4", c::bad_domain, "no usable MX address",
     "The domain's MX hosts have no A/AAAA address: the domain is misconfigured; tell its postmaster."},
    {"4.4.3",
     c::dns_failure,
     {},
     "DNS lookups failed temporarily (SERVFAIL, timeout): check the resolvers ([dns] servers); retried "
     "later."},
    {"4.4.1", c::service_unavailable, "no answer",
     "Could not connect (refused or timed out): the host is down or port 25 is blocked (firewall, ISP); "
     "retried later."},
    {"4.4.2", c::service_unavailable, "connection lost",
     "The connection dropped or timed out mid-session: usually temporary; retried later."},
    {"4.7.4", c::tls_required, "STARTTLS not offered",
     "The route requires TLS but the server does not offer STARTTLS: relax the route's tls policy or fix the "
     "server."},
    {"4.7.5", c::tls_required, "TLS handshake failed",
     "The TLS handshake or certificate verification failed: check the server's certificate and the route's "
     "tls policy (verify needs a trusted certificate for the host name)."},
    {"4.7.0", c::auth_required, "AUTH failed",
     "Authentication failed or no usable mechanism: check auth_user and auth_password_file of the route."},
    {"4.5.0",
     c::protocol_error,
     {},
     "The server's replies were malformed or unexpected: read the transcript."},
    {"5.4.6", c::other, "mail loop",
     "Mail for this domain would loop back to this server: fix the MX records or the routes."},
    {"5.6.3", c::protocol_error, "8BITMIME missing",
     "An 8-bit message to a server without 8BITMIME: the message must be re-encoded by its sender."},
    {"5.6.7", c::protocol_error, "SMTPUTF8 missing",
     "A UTF-8 address to a server without SMTPUTF8: the recipient cannot receive internationalised mail."},
    {"5.3.4", c::message_too_large, "SIZE", "The message is larger than the SIZE the server announced."},
    {"4.3.5", c::other, "routing configuration",
     "Ferry's own routing configuration is unusable: check [[route]]."},
};

}  // namespace

std::span<const std::string_view> reply_categories() { return kAll; }

std::string_view category_advice(std::string_view cat) {
  for (const auto& a : table::advice)
    if (a.category == cat) return a.advice;
  return {};
}

ReplyCategory classify_reply_category(const Reply& reply) {
  if (reply.code >= 200 && reply.code < 400) return {};
  return classify_text_status(reply.code, reply.status, reply.text);
}

ReplyCategory classify_reply_category(const Reply& reply, std::span<const bool> text_rule_enabled) {
  if (reply.code >= 200 && reply.code < 400) return {};
  return classify_text_status(reply.code, reply.status, reply.text, text_rule_enabled);
}

ReplyCategory classify_reply_category(const Attempt& attempt) {
  if (attempt.outcome == AttemptOutcome::Delivered) return {};
  EnhancedStatus status;
  parse_status(attempt.status, status);
  if (attempt.code != 0) return classify_reply_category(Reply{attempt.code, status, attempt.reply});

  // Expired (RFC 5321 §4.5.4.1): why it kept failing is in the "last error" (expired_attempt).
  if (attempt.outcome == AttemptOutcome::Expired || attempt.status == "4.4.7") {
    constexpr std::string_view kLast = "last error: ";
    const auto at = attempt.reply.find(kLast);
    if (at == std::string::npos) return make(c::service_unavailable, "expired");
    std::string_view rest = std::string_view(attempt.reply).substr(at + kLast.size());
    Attempt last;
    last.outcome = AttemptOutcome::Transient;
    if (rest.size() >= 4 && rest[3] == ' ' && rest[0] >= '2' && rest[0] <= '5' && rest[1] >= '0' &&
        rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9') {
      last.code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
      rest.remove_prefix(4);
    }
    EnhancedStatus s;
    if (auto n = parse_status(rest, s)) {
      last.status = s.str();
      rest.remove_prefix(n);
    }
    last.reply = std::string(rest);
    if (last.status == "4.4.7") return make(c::service_unavailable, "expired");  // no recursion loops
    return classify_reply_category(last);
  }
  for (const auto& row : kNetwork)
    if (row.status == attempt.status) return {row.category, row.advice, row.detail};
  // An unknown local failure: the text may still say (e.g. a DNS error string).
  ReplyCategory r = classify_text_status(0, status, attempt.reply);
  if (r.category == c::other && status.klass == 4) return make(c::service_unavailable);
  return r;
}

}  // namespace ferry::delivery
