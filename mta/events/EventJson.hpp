// EventJson: a delivery event as JSON, one object per event, and a webhook batch.
// Contract: pure; every string from the network or a client (reply, addresses, Message-ID, host)
// goes through the one JSON escaper, so the output is always valid JSON on one line.
#pragma once

#include <span>
#include <string>

#include "ferry/DeliveryEvent.hpp"

namespace ferry::events {

// {"id":..,"seq":..,"time":"2026-12-08T00:24:21.123Z","status":"delivered","queue_id":..,
//  "message_id":..,"sender":..,"recipient":..,"attempt":n, and for a delivery result:
//  "code":250,"enhanced_code":"2.0.0","category":..,"remote_host":..,"remote_ip":..,"tls":..,"reply":..}
std::string event_json(const DeliveryEvent& e);

// {"events":[...]} in sequence order (the webhook body).
std::string batch_json(std::span<const DeliveryEvent> events);

// RFC 3339 UTC with milliseconds ("1970-01-01T00:00:00.000Z").
std::string rfc3339_ms(TimeMs t);

}  // namespace ferry::events
