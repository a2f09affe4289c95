// SessionReplies: the reply text a ServerSession has queued, for unit tests.
// Contract: takes every pending action; returns the SendReply texts concatenated in order.
#pragma once

#include <string>
#include <variant>

#include "mta/smtp/ServerSession.hpp"

namespace ferry::smtp::test {

inline std::string replies(ServerSession& s) {
  std::string out;
  for (auto& a : s.take_actions())
    if (auto* r = std::get_if<SendReply>(&a)) out += r->text;
  return out;
}

}  // namespace ferry::smtp::test
