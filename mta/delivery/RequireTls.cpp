// RequireTls: the header search unfolds one field at a time (RFC 5322 §2.2.3) and stops at the
// end of the header section.
#include "mta/delivery/RequireTls.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::delivery {

using namespace ferry::text;  // the ASCII helpers
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The next physical line of `rest` (without its line end), advancing `rest` past it.
std::string_view next_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The unfolded value of a TLS-Required field that begins with `first` (after the colon): the
// continuation lines (starting with white space) are joined with one space.
bool value_is_no(std::string_view first, std::string_view& rest) {
  std::string value(trim(first));
  while (!rest.empty() && is_wsp(rest.front())) {
    const std::string_view more = trim(next_line(rest));
    if (more.empty()) continue;
    if (value.size() > 64) return false;  // "No" is two letters: a long value is something else
    if (!value.empty()) value += ' ';
    value += more;
  }
  return iequals(value, "No");
}

}  // namespace

bool has_tls_required_no(std::string_view message) {
  std::string_view rest = message;
  bool found = false;
  while (!rest.empty()) {
    const std::string_view line = next_line(rest);
    if (line.empty()) break;             // RFC 5322 §2.1: the header section ends here
    if (is_wsp(line.front())) continue;  // a continuation of a field we do not read
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!iequals(trim(line.substr(0, colon)), "TLS-Required")) continue;
    if (value_is_no(line.substr(colon + 1), rest)) found = true;
  }
  return found;
}

TlsDemand tls_demand(const Envelope& envelope, std::string_view message) {
  TlsDemand d;
  d.require_tls = envelope.require_tls;
  // RFC 8689 §3: with the REQUIRETLS option present, the TLS-Required field is ignored.
  d.policy_waived = !d.require_tls && has_tls_required_no(message);
  return d;
}

bool validates_tls(TlsPolicyKind kind) {
  return kind == TlsPolicyKind::Verify || kind == TlsPolicyKind::Dane || kind == TlsPolicyKind::StsEnforce;
}

std::string require_tls_refusal(const TlsDemand& demand, TlsPolicyKind kind) {
  if (!demand.require_tls || validates_tls(kind)) return {};
  return std::string("REQUIRETLS support required: the TLS policy for the next hop (") + to_string(kind) +
         ") does not validate the server (no MTA-STS enforce, DANE or verifying route)";
}

std::optional<Attempt> require_tls_failure(const TlsDemand& demand, TlsPolicyKind kind, TimeMs now) {
  std::string why = require_tls_refusal(demand, kind);
  if (why.empty()) return std::nullopt;
  Attempt a;
  a.time_ms = now;
  a.outcome = AttemptOutcome::Permanent;
  a.status = "5.7.30";  // RFC 8689 §7: "REQUIRETLS support required"
  a.reply = std::move(why);
  return a;
}

TlsPolicyKind route_policy_kind(TlsPolicy tls) {
  switch (tls) {
    case TlsPolicy::Required:
      return TlsPolicyKind::Required;
    case TlsPolicy::Verify:
      return TlsPolicyKind::Verify;
    default:  // None and Opportunistic: nothing validated
      return TlsPolicyKind::Opportunistic;
  }
}

TlsPolicyKind waived_policy(const TlsDemand& demand, TlsPolicyKind kind) {
  if (!demand.policy_waived) return kind;
  if (kind == TlsPolicyKind::Dane || kind == TlsPolicyKind::StsEnforce || kind == TlsPolicyKind::StsTesting)
    return TlsPolicyKind::Opportunistic;
  return kind;
}

}  // namespace ferry::delivery
