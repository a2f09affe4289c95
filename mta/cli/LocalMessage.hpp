// LocalMessage: turns what a local program piped into `sendmail` into a message ready to queue
// (RFC 5322): CRLF lines, Date / Message-ID / From added when missing, -t recipients taken from
// To/Cc/Bcc and every Bcc field removed. Contract: pure (time, names and ids are inputs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::cli {

struct LocalMessageOptions {
  bool dot_ends_message = true;          // sendmail without -i: a lone "." line ends the input
  bool recipients_from_headers = false;  // -t
  std::string from;                      // the From: to add when missing: "Full Name <a@b>" or "a@b"
  std::string date;                      // RFC 5322 date-time for a missing Date:
  std::string message_id;                // "<id@host>" for a missing Message-ID:
};

struct LocalMessage {
  std::string message;                  // header section + body, CRLF line ends
  std::vector<std::string> recipients;  // from To/Cc/Bcc (with -t), in order, without duplicates
  bool added_from = false;
  bool added_date = false;
  bool added_message_id = false;
};

LocalMessage prepare_local_message(std::string_view input, const LocalMessageOptions& options);

// The addresses of an RFC 5322 §3.4 address-list ("A <a@x>, b@y (c), grp: c@z;"): display
// names, comments, quoted strings, groups and source routes are handled; angle brackets dropped.
std::vector<std::string> parse_address_list(std::string_view value);

// "Full Name" <address> when a name is given (quoted if it needs to be), else the address.
std::string format_from(std::string_view full_name, std::string_view address);

}  // namespace ferry::cli
