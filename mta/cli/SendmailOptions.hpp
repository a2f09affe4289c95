// SendmailOptions: the command line of `ferry sendmail` / `sendmail` / `mailq` (sendmail(8) and
// Postfix's sendmail(1) flags). Contract: pure parsing; unknown -o options are ignored as real
// sendmail does, any other unknown flag is a usage error (exit 64).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/Result.hpp"

namespace ferry::cli {

enum class SendmailMode {
  Deliver,  // -bm (the default): read a message from stdin and queue it
  Smtp,     // -bs: an SMTP session on stdin/stdout
  List,     // -bp, or invoked as mailq: `ferry queue list`
  Flush,    // -q: `ferry queue flush`
  Aliases,  // -bi, newaliases: nothing to rebuild ([aliases] lives in ferry.toml)
};

struct SendmailOptions {
  SendmailMode mode = SendmailMode::Deliver;
  std::optional<std::string> config_path;    // -C FILE
  std::optional<std::string> sender;         // -f / -r; "" or "<>" = the null reverse-path
  std::string full_name;                     // -F: the From: display name when From: is added
  bool dot_ends_message = true;              // a lone "." line ends input; -i / -oi turn it off
  bool recipients_from_headers = false;      // -t
  std::uint8_t notify = kNotifyUnspecified;  // -N (RFC 3461 NOTIFY)
  DsnRet ret = DsnRet::Unspecified;          // -R full|hdrs
  std::string envid;                         // -V
  bool verbose = false;                      // -v: show the SMTP dialogue on stderr
  std::vector<std::string> recipients;       // the operands
  std::vector<std::string> ignored;          // options accepted and ignored (for -v)
};

// `args` excludes the program name. `as_mailq`: invoked as mailq (same as -bp).
// Returns the options or the usage error text.
Result<SendmailOptions, std::string> parse_sendmail_args(const std::vector<std::string>& args,
                                                         bool as_mailq = false);

// "never" or a comma list of success, failure, delay (case-insensitive); nullopt if invalid.
std::optional<std::uint8_t> parse_notify_list(const std::string& text);

}  // namespace ferry::cli
