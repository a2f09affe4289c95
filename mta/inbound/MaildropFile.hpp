// MaildropFile: the format of a file in the maildrop directory, where `ferry postdrop` leaves a
// local user's message while the daemon is down. Contract: pure; decode() trusts nothing (any
// local user wrote the file): a bad file is an error value, never a crash or an unbounded read.
// The file names no sender: the daemon takes the sender from the file's owner.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Envelope.hpp"
#include "ferry/Result.hpp"

namespace ferry::inbound {

struct MaildropEntry {
  std::vector<std::string> recipients;
  int notify = kNotifyUnspecified;
  DsnRet ret = DsnRet::Unspecified;
  std::string envid;
  std::string message;  // CRLF lines, header completed
};

inline constexpr std::size_t kMaildropMaxRecipients = 1000;

// "ferry-maildrop 1\n", then "rcpt ADDRESS\n" (one or more), "notify N\n", "ret full|hdrs\n",
// "envid TEXT\n" (each optional), an empty line, and the message.
std::string encode_maildrop(const MaildropEntry& entry);

// Invalid when the file is not exactly that shape, or its message is larger than `max_message`.
Result<MaildropEntry> decode_maildrop(std::string_view file, std::size_t max_message);

}  // namespace ferry::inbound
