// MessageJson: the JSON view of a queued message — envelope, every recipient's state, attempts
// and reply history with its category — shared by `ferry queue show --json` and the HTTP API's
// GET /v1/messages/{id}. Contract: pure functions of the record (and the body for its headers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "ferry/Envelope.hpp"
#include "ferry/JsonWriter.hpp"
#include "queue/QueueTypes.hpp"

namespace ferry::submit {

std::string iso_time(TimeMs ms);                // "2026-11-28T22:41:52Z"; "-" for 0
const char* dsn_ret_name(DsnRet r);             // "FULL", "HDRS" or ""
const char* body_type_name(BodyType b);         // "7BIT", "8BITMIME", "BINARYMIME" or ""
std::string notify_names(std::uint8_t notify);  // "SUCCESS,FAILURE", "NEVER" or ""

// One message as a JSON object; `with_history` adds the envelope's details and every attempt.
void write_message_json(JsonWriter& j, const queue::MessageRecord& message, bool with_history);

// Everything about one message (with history) plus its header section, as one JSON object and
// a newline.
std::string message_show_json(const queue::MessageRecord& message, std::string_view body);

// The header section of a message (up to, not including, the first empty line).
std::string_view header_section(std::string_view body);

}  // namespace ferry::submit
