// libFuzzer target: CommandParser and AddressParser on arbitrary command lines.
// Invariants: no crash/UB; every error reply formats to lines of at most 512 octets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mta/smtp/AddressParser.hpp"
#include "mta/smtp/CommandParser.hpp"
#include "mta/smtp/ReplyText.hpp"

using namespace ferry::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (bool esmtp : {true, false}) {
    CommandParseOptions options;
    options.esmtp = esmtp;
    const auto r = parse_command(line, options);
    if (r.error) {
      const std::string wire = format_reply(*r.error);
      std::size_t start = 0;
      while (start < wire.size()) {
        const std::size_t end = wire.find("\r\n", start);
        if (end == std::string::npos || end + 2 - start > 512) std::abort();
        start = end + 2;
      }
    } else if ((r.command.verb == Verb::Mail || r.command.verb == Verb::Rcpt) && !r.command.path.null_path &&
               r.command.path.address.empty()) {
      std::abort();  // an accepted MAIL/RCPT always has an address or "<>"
    }
  }
  for (bool utf8 : {true, false}) {
    const auto p = parse_path(line, PathKind::Forward, utf8);
    if (p.ok() && (p.consumed == 0 || p.consumed > line.size())) std::abort();
    if (p.ok() && !utf8 && p.path.utf8) std::abort();
  }
  return 0;
}
