// QueueListFilter: which messages `ferry queue list` shows (--domain, --sender, --state, --limit).
// Contract: pure; a message matches when it passes every filter given (none given: all match).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "queue/QueueTypes.hpp"

namespace ferry::cli {

// The states a listed recipient shows: pending (waiting, including deferred), deferred (waiting
// after at least one attempt), active (an attempt in flight), held, delivered, failed.
enum class ListState { Pending, Deferred, Active, Held, Delivered, Failed };
std::optional<ListState> parse_list_state(std::string_view text);

struct QueueListFilter {
  std::optional<std::string> domain;  // some recipient's domain, case-insensitive
  std::optional<std::string> sender;  // the sender's address, case-insensitive; "<>" = null sender;
                                      // "@domain" = any sender of that domain
  std::optional<ListState> state;     // some recipient is in this state
  std::size_t limit = 0;              // at most this many messages (0 = no limit)

  bool matches(const queue::MessageRecord& message) const;
};

}  // namespace ferry::cli
