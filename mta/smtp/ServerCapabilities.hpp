// ServerCapabilities: what a server's EHLO reply advertises (RFC 5321 §4.1.1.1), parsed once for
// every client (delivery, probe, sendmail). Contract: pure; unknown keywords are kept in order and
// ignored; a malformed SIZE or LIMITS parameter counts as "no fixed limit", never as an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::smtp {

// One EHLO line after the greeting line: "KEYWORD[ params]" (or the old "AUTH=..." spelling).
struct EhloKeyword {
  std::string line;        // as the server wrote it
  std::string keyword;     // up to the first space or '='
  std::string parameters;  // after it, may be empty
};

struct ServerCapabilities {
  bool esmtp = false;  // EHLO succeeded (false after the HELO fallback)
  bool pipelining = false;
  bool size = false;
  std::uint64_t size_limit = 0;  // 0 = no fixed limit announced
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool starttls = false;
  bool enhanced_status_codes = false;
  bool auth_plain = false;
  bool auth_login = false;
  bool requiretls = false;  // RFC 8689 §2 (meaningful only when read over TLS)
  // RFC 9422 LIMITS; 0 = not advertised (or not a valid value), so no limit of that kind.
  std::uint32_t rcptmax = 0;          // recipients per transaction
  std::uint32_t mailmax = 0;          // transactions per connection
  std::uint32_t rcptdomainmax = 0;    // distinct recipient domains per transaction
  std::vector<EhloKeyword> keywords;  // every advertised line, in the server's order
};

// The capabilities in the text of a positive EHLO reply (ferry::Reply::text: lines joined with
// "\n", codes removed). The first line is the server's name and greeting; one keyword per later
// line. Sets esmtp.
ServerCapabilities parse_ehlo(std::string_view reply_text);

}  // namespace ferry::smtp
