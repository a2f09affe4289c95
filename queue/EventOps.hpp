// EventOps: the events outbox (`events`: be64 seq -> event) and the sinks' cursors
// (`event_cursors`: sink name -> be64 last acknowledged seq), inside a transaction the caller owns.
// Contract: append() is called by the state changes of TxnOps in their own transaction, so an
// event exists iff its change committed; sequence numbers only grow, across restarts and trims.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/DeliveryEvent.hpp"
#include "ferry/Result.hpp"
#include "queue/TxnOps.hpp"

namespace ferry::queue {

namespace codec {
inline constexpr std::uint8_t kEventVersion = 1;
std::string encode_event(const DeliveryEvent& e);  // `seq` is the key, not stored in the value
Result<DeliveryEvent> decode_event(std::uint64_t seq, std::string_view bytes);
}  // namespace codec

// Which events a trim may delete: those every configured sink acknowledged, except the newest
// `retain` (kept for `ferry events tail`). With no sink, everything but the newest `retain`.
// Returns the highest sequence number to delete (0: none). Pure.
std::uint64_t trim_through(const std::vector<std::uint64_t>& acked, std::uint64_t last_seq,
                           std::uint64_t retain);

namespace ops {

// Appends `e` with the next sequence number (returned).
Result<std::uint64_t> append_event(Ctx& c, DeliveryEvent e);
Result<std::vector<DeliveryEvent>> events_after(Ctx& c, std::uint64_t after, std::size_t limit);
Result<std::uint64_t> last_event_seq(Ctx& c);  // 0 when no event was ever written
Result<std::uint64_t> event_cursor(Ctx& c, std::string_view sink);
Result<void> ack_events(Ctx& c, std::string_view sink, std::uint64_t seq);
// Deletes cursors of sinks not in `sinks` (a removed sink must not hold the outbox forever),
// then at most `max_delete` events through trim_through(). Returns how many were deleted.
Result<std::size_t> trim_events(Ctx& c, const std::vector<std::string>& sinks, std::uint64_t retain,
                                std::size_t max_delete);
// Deletes at most `max_delete` of the oldest events, keeping the newest `keep`, whether or not
// the sinks acknowledged them (their cursors stay: they see a gap). For a queue short of space
// only: recording what happened to mail comes before telling a webhook about it.
Result<std::size_t> shed_events(Ctx& c, std::uint64_t keep, std::size_t max_delete);

}  // namespace ops
}  // namespace ferry::queue
