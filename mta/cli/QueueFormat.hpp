// QueueFormat: renders queue records for `ferry queue list` / `show` as text or JSON.
// Contract: pure functions of the records (and the body text for headers); no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ferry/Clock.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::cli {

std::string format_time(TimeMs ms);  // "2026-11-28T22:41:52Z"; "-" for 0

// mailq-style listing: one block per message, each recipient with state, attempts, next attempt
// and the last reply.
std::string format_list_text(const std::vector<queue::MessageRecord>& messages);
std::string format_list_json(const std::vector<queue::MessageRecord>& messages);
// The same listing a message at a time, for `queue list` to stream a big queue: the header, one
// message's block, the footer (text); one message's object (JSON, joined with ',' in '[' ']').
std::string format_list_header();
std::string format_list_entry_text(const queue::MessageRecord& message);
std::string format_list_footer(std::uint64_t total_bytes, std::size_t count);
std::string format_list_entry_json(const queue::MessageRecord& message);

// Everything about one message: envelope, every recipient's attempt history, the headers. The
// JSON is mta/submit/MessageJson's, which the HTTP API's status reply shares.
std::string format_show_text(const queue::MessageRecord& message, std::string_view body);
std::string format_show_json(const queue::MessageRecord& message, std::string_view body);

}  // namespace ferry::cli
