// NodeRecord: see NodeRecord.hpp.
#include "mta/cluster/NodeRecord.hpp"

#include <charconv>

namespace ferry::cluster {
namespace {

template <typename T>
T number(const std::string& s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : T{};
}

// Another node's text shown by `ferry cluster status`: bounded, printable ASCII only.
std::string printable(const std::string& s) {
  std::string out;
  for (char ch : s.substr(0, 64))
    if (ch > 0x20 && ch < 0x7f) out += ch;
  return out;
}

}  // namespace

std::string node_key(const std::string& name) { return kNodeKeyPrefix + name; }

std::vector<Argv> encode_heartbeat(const NodeRecord& r, std::chrono::milliseconds ttl) {
  const std::string key = node_key(r.name);
  Argv hset{"HSET",
            key,
            "queue_messages",
            std::to_string(r.queue_messages),
            "queue_recipients",
            std::to_string(r.queue_recipients),
            "deliveries_per_minute",
            std::to_string(r.deliveries_per_minute),
            "version",
            r.version,
            "started_at",
            std::to_string(r.started_at),
            "updated_at",
            std::to_string(r.updated_at)};
  return {{"MULTI"}, std::move(hset), {"PEXPIRE", key, std::to_string(ttl.count())}, {"EXEC"}};
}

std::optional<NodeRecord> decode_node(const std::string& name, const Reply& hgetall) {
  if (hgetall.type != ReplyType::Array || hgetall.elements.empty() || hgetall.elements.size() % 2 != 0)
    return std::nullopt;
  NodeRecord r;
  r.name = printable(name);
  for (std::size_t i = 0; i + 1 < hgetall.elements.size(); i += 2) {
    const auto& field = hgetall.elements[i].text;
    const auto& value = hgetall.elements[i + 1].text;
    if (field == "queue_messages") r.queue_messages = number<std::uint64_t>(value);
    if (field == "queue_recipients") r.queue_recipients = number<std::uint64_t>(value);
    if (field == "deliveries_per_minute") r.deliveries_per_minute = number<std::uint64_t>(value);
    if (field == "version") r.version = printable(value);
    if (field == "started_at") r.started_at = number<std::int64_t>(value);
    if (field == "updated_at") r.updated_at = number<std::int64_t>(value);
  }
  return r;
}

}  // namespace ferry::cluster
