// SuppressionStream: see SuppressionStream.hpp.
#include "mta/cluster/SuppressionStream.hpp"

#include <charconv>

namespace ferry::cluster {
namespace {

bool digits(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A short token from another node: printable ASCII, no spaces, at most `max` bytes.
bool token(const std::string& s, std::size_t max) {
  if (s.size() > max) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::optional<SuppressionEvent> decode_fields(const Reply& fields) {
  if (fields.type != ReplyType::Array || fields.elements.size() % 2 != 0) return std::nullopt;
  SuppressionEvent ev;
  std::string op, time, qid, source;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& k = fields.elements[i].text;
    const std::string& v = fields.elements[i + 1].text;
    if (k == "op") op = v;
    if (k == "node") ev.node = v;
    if (k == "address") ev.entry.address = v;
    if (k == "category") ev.entry.category = v;
    if (k == "status") ev.entry.status = v;
    if (k == "reply") ev.entry.reply = suppression_reply_text(v);
    if (k == "time") time = v;
    if (k == "queue_id") qid = v;
    if (k == "source") source = v;
  }
  if (op != "put" && op != "del") return std::nullopt;
  ev.removed = op == "del";
  const std::string& a = ev.entry.address;
  if (a.empty() || a.size() > kMaxSuppressionAddress || a.find('@') == std::string::npos || !token(a, 256))
    return std::nullopt;
  ev.entry.address = suppression_key(a);
  if (!token(ev.node, 64)) return std::nullopt;
  if (ev.removed) return ev;
  if (ev.entry.category.empty() || !token(ev.entry.category, 32) || !token(ev.entry.status, 16))
    return std::nullopt;
  if (!digits(time)) return std::nullopt;
  std::from_chars(time.data(), time.data() + time.size(), ev.entry.time_ms);
  if (auto id = QueueId::parse(qid)) ev.entry.queue_id = *id;
  ev.entry.source = source == "manual" ? SuppressionSource::Manual : SuppressionSource::Bounce;
  return ev;
}

}  // namespace

bool valid_stream_id(const std::string& id) {
  if (id == "0") return true;
  const auto dash = id.find('-');
  return dash != std::string::npos && digits(std::string_view(id).substr(0, dash)) &&
         digits(std::string_view(id).substr(dash + 1));
}

Argv encode_suppression_event(const SuppressionEvent& ev) {
  const SuppressionEntry& e = ev.entry;
  Argv a{"XADD",
         kSuppressionStream,
         "MAXLEN",
         "~",
         std::to_string(kStreamMaxLen),
         "*",
         "op",
         ev.removed ? "del" : "put",
         "node",
         ev.node,
         "address",
         suppression_key(e.address)};
  if (ev.removed) return a;
  for (const auto& kv : std::vector<std::pair<std::string, std::string>>{
           {"category", e.category},
           {"status", e.status},
           {"reply", suppression_reply_text(e.reply)},
           {"time", std::to_string(e.time_ms)},
           {"queue_id", e.queue_id.value ? e.queue_id.str() : std::string()},
           {"source", to_string(e.source)}}) {
    a.push_back(kv.first);
    a.push_back(kv.second);
  }
  return a;
}

Argv read_suppression_events(const std::string& after, long block_ms) {
  return {"XREAD",
          "COUNT",
          std::to_string(kReadCount),
          "BLOCK",
          std::to_string(block_ms),
          "STREAMS",
          kSuppressionStream,
          after};
}

Result<StreamBatch> decode_suppression_events(const Reply& xread) {
  StreamBatch batch;
  if (xread.type == ReplyType::Nil) return batch;
  auto bad = [] { return make_error(ErrorKind::Invalid, "unexpected XREAD reply"); };
  if (xread.type != ReplyType::Array || xread.elements.size() != 1) return bad();
  const Reply& stream = xread.elements[0];
  if (stream.type != ReplyType::Array || stream.elements.size() != 2 ||
      stream.elements[1].type != ReplyType::Array)
    return bad();
  for (const Reply& msg : stream.elements[1].elements) {
    if (msg.type != ReplyType::Array || msg.elements.size() != 2 || !valid_stream_id(msg.elements[0].text))
      return bad();
    batch.last_id = msg.elements[0].text;
    if (auto ev = decode_fields(msg.elements[1]))
      batch.events.push_back(std::move(*ev));
    else
      ++batch.skipped;
  }
  return batch;
}

}  // namespace ferry::cluster
