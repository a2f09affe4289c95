// QueueListFilter: see QueueListFilter.hpp.
#include "mta/cli/QueueListFilter.hpp"

#include <algorithm>

#include "ferry/text/Ascii.hpp"
#include "mta/delivery/RoutePlan.hpp"

namespace ferry::cli {
namespace {

bool in_state(const queue::RecipientRecord& r, ListState s) {
  const bool waiting = r.state == RecipientState::Pending && !r.leased;
  switch (s) {
    case ListState::Pending:
      return waiting;
    case ListState::Deferred:
      return waiting && r.attempts > 0;
    case ListState::Active:
      return r.leased;
    case ListState::Held:
      return r.state == RecipientState::Held;
    case ListState::Delivered:
      return r.state == RecipientState::Delivered;
    case ListState::Failed:
      return r.state == RecipientState::Failed;
  }
  return false;
}

bool sender_matches(std::string_view reverse_path, std::string_view wanted) {
  if (wanted == "<>") return reverse_path.empty();
  if (wanted.starts_with('@'))
    return !reverse_path.empty() && text::iequals(delivery::domain_of(reverse_path), wanted.substr(1));
  return text::iequals(reverse_path, wanted);
}

}  // namespace

std::optional<ListState> parse_list_state(std::string_view text) {
  static constexpr std::pair<std::string_view, ListState> kNames[] = {
      {"pending", ListState::Pending}, {"deferred", ListState::Deferred},   {"active", ListState::Active},
      {"held", ListState::Held},       {"delivered", ListState::Delivered}, {"failed", ListState::Failed},
  };
  for (const auto& [name, state] : kNames)
    if (text::iequals(text, name)) return state;
  return std::nullopt;
}

bool QueueListFilter::matches(const queue::MessageRecord& m) const {
  if (sender && !sender_matches(m.envelope.reverse_path, *sender)) return false;
  const auto& rcpts = m.envelope.recipients;
  if (domain && std::none_of(rcpts.begin(), rcpts.end(), [&](const EnvelopeRecipient& r) {
        return text::iequals(delivery::domain_of(r.address), *domain);
      }))
    return false;
  if (state && std::none_of(m.recipients.begin(), m.recipients.end(),
                            [&](const queue::RecipientRecord& r) { return in_state(r, *state); }))
    return false;
  return true;
}

}  // namespace ferry::cli
