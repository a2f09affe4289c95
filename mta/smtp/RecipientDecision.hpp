// RecipientDecision: the answer of recipient policy for one RCPT TO address.
// Contract: plain data; Accept keeps the address, Rewrite replaces it (alias, admin), Reject
// carries the exact reply (e.g. 554 5.7.1 relay denied, 550 5.1.1 unknown user).
#pragma once

#include <string>

#include "ferry/Reply.hpp"

namespace ferry::smtp {

struct RecipientDecision {
  enum class Kind { Accept, Rewrite, Reject };
  Kind kind = Kind::Accept;
  std::string address;  // Rewrite: the new forward-path (no brackets)
  Reply reply;          // Reject: the reply to send
  // Rewrite to the admin address: the message records the address it was sent to in an
  // X-Original-To: field, since the admin's mailbox receives mail for many local users.
  bool original_to = false;

  static RecipientDecision accept() { return {}; }
  static RecipientDecision rewrite(std::string to) { return {Kind::Rewrite, std::move(to), {}}; }
  static RecipientDecision rewrite_to_admin(std::string to) {
    return {Kind::Rewrite, std::move(to), {}, true};
  }
  static RecipientDecision reject(Reply r) { return {Kind::Reject, {}, std::move(r)}; }
};

}  // namespace ferry::smtp
