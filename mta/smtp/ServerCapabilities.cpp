// ServerCapabilities: keyword by keyword, case-insensitive (RFC 5321 §2.4: keywords are not case
// sensitive).
#include "mta/smtp/ServerCapabilities.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers
namespace {

// RFC 1870 §4: "SIZE [n]"; 0 or absent = no limit; saturates instead of overflowing.
std::uint64_t size_parameter(std::string_view params) {
  std::uint64_t n = 0;
  for (char c : params) {
    if (!is_digit(c)) break;
    n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// RFC 4954 §3: the mechanisms, space separated.
void auth_mechanisms(std::string_view params, ServerCapabilities& caps) {
  std::size_t p = 0;
  while (p < params.size()) {
    std::size_t e = params.find(' ', p);
    if (e == std::string_view::npos) e = params.size();
    const std::string_view mech = params.substr(p, e - p);
    if (iequals(mech, "PLAIN")) caps.auth_plain = true;
    if (iequals(mech, "LOGIN")) caps.auth_login = true;
    p = e + 1;
  }
}

// RFC 9422 §4: a limit value is digits only; one we cannot read, zero, or one over a million (no
// server means that; it would only make our arithmetic fragile) is ignored as if absent.
std::uint32_t limit_value(std::string_view digits) {
  constexpr std::uint32_t kMaxLimit = 1000000;
  if (digits.empty() || digits.size() > 7) return 0;
  std::uint32_t n = 0;
  for (char c : digits) {
    if (!is_digit(c)) return 0;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n <= kMaxLimit ? n : 0;
}

// RFC 9422 §4: "LIMITS name=value ..."; names are case-insensitive, unknown names are ignored
// (§4: new limits may be defined), an invalid value leaves that limit unset.
void limits(std::string_view params, ServerCapabilities& caps) {
  std::size_t p = 0;
  while (p < params.size()) {
    std::size_t e = params.find(' ', p);
    if (e == std::string_view::npos) e = params.size();
    const std::string_view item = params.substr(p, e - p);
    p = e + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = item.substr(0, eq);
    const std::uint32_t value = limit_value(item.substr(eq + 1));
    if (iequals(name, "RCPTMAX"))
      caps.rcptmax = value;
    else if (iequals(name, "MAILMAX"))
      caps.mailmax = value;
    else if (iequals(name, "RCPTDOMAINMAX"))
      caps.rcptdomainmax = value;
  }
}

void apply(std::string_view kw, std::string_view params, ServerCapabilities& caps) {
  if (iequals(kw, "PIPELINING"))
    caps.pipelining = true;
  else if (iequals(kw, "8BITMIME"))
    caps.eightbitmime = true;
  else if (iequals(kw, "SMTPUTF8"))
    caps.smtputf8 = true;
  else if (iequals(kw, "DSN"))
    caps.dsn = true;
  else if (iequals(kw, "STARTTLS"))
    caps.starttls = true;
  else if (iequals(kw, "ENHANCEDSTATUSCODES"))
    caps.enhanced_status_codes = true;
  else if (iequals(kw, "REQUIRETLS"))
    caps.requiretls = true;
  else if (iequals(kw, "LIMITS"))
    limits(params, caps);
  else if (iequals(kw, "SIZE")) {
    caps.size = true;
    caps.size_limit = size_parameter(params);
  } else if (iequals(kw, "AUTH")) {  // also the old "AUTH=" spelling
    auth_mechanisms(params, caps);
  }
}

}  // namespace

ServerCapabilities parse_ehlo(std::string_view reply_text) {
  ServerCapabilities caps;
  caps.esmtp = true;
  std::size_t pos = reply_text.find('\n');
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + 1;
    pos = reply_text.find('\n', start);
    const std::string_view line =
        reply_text.substr(start, (pos == std::string_view::npos ? reply_text.size() : pos) - start);
    const std::size_t sp = line.find_first_of(" =");
    const std::string_view kw = line.substr(0, sp);
    const std::string_view params = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    apply(kw, params, caps);
    caps.keywords.push_back(EhloKeyword{std::string(line), std::string(kw), std::string(params)});
  }
  return caps;
}

}  // namespace ferry::smtp
