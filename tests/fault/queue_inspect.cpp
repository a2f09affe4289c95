// ferry_fault_inspect: opens a queue directory exactly as `ferry serve` does at start-up
// (QueueStore::open + recover) and prints what it holds, for the fault campaigns.
// Contract: one JSON object per line: {"msg":...} per message, then {"summary":...}; exit 0 iff
// the queue opened, recovered and every record (messages, recipients, bodies) decoded.
#include <chrono>
#include <cstdio>
#include <string>

#include "queue/QueueStore.hpp"

using namespace ferry;

namespace {

std::string json_str(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

// FNV-1a 64 of the body from the campaign's token header on (Ferry prepends its Received:
// header, so the client's bytes start there). The Python drivers compute the same hash.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s QUEUE_DIR [--no-recover]\n", argv[0]);
    return 2;
  }
  bool do_recover = !(argc > 2 && std::string(argv[2]) == "--no-recover");
  queue::QueueOptions opts;
  opts.path = argv[1];
  opts.map_size = 1ull << 30;
  auto store = queue::QueueStore::open(opts);
  if (!store) {
    std::printf("{\"summary\":{\"open\":%s}}\n",
                json_str(std::string(to_string(store.error().kind)) + ": " + store.error().message).c_str());
    return 1;
  }
  int errors = 0;
  std::string recovered = "null";
  if (do_recover) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto rec = (*store)->recover(now);
    if (!rec) {
      std::printf("{\"summary\":{\"open\":\"ok\",\"recover\":%s}}\n", json_str(rec.error().message).c_str());
      return 1;
    }
    recovered = "{\"messages\":" + std::to_string(rec->messages) +
                ",\"unleased\":" + std::to_string(rec->unleased) +
                ",\"quarantined\":" + std::to_string(rec->quarantined) + "}";
  }
  std::size_t count = 0;
  auto visited = (*store)->for_each([&](const queue::MessageRecord& m) {
    ++count;
    std::string line = "{\"msg\":{\"id\":\"" + m.id.str() +
                       "\",\"from\":" + json_str(m.envelope.reverse_path) + ",\"rcpts\":[";
    for (std::size_t i = 0; i < m.envelope.recipients.size(); ++i) {
      std::string state = "missing";
      for (auto& r : m.recipients)
        if (r.index == i) state = std::string(to_string(r.state)) + (r.leased ? "+leased" : "");
      line += (i ? "," : "") + std::string("[") + json_str(m.envelope.recipients[i].address) + "," +
              json_str(state) + "]";
    }
    line += "]";
    auto body = (*store)->read_body(m.id);
    if (!body) {
      ++errors;
      line += ",\"body_error\":" + json_str(body.error().message);
    } else {
      auto pos = body->find("X-Campaign-Token: ");
      std::string token;
      if (pos != std::string::npos) token = body->substr(pos + 18, body->find("\r\n", pos) - pos - 18);
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016llx",
                    static_cast<unsigned long long>(
                        pos == std::string::npos ? 0 : fnv1a(std::string_view(*body).substr(pos))));
      line += ",\"size\":" + std::to_string(body->size()) +
              ",\"stored_size\":" + std::to_string(m.envelope.size) + ",\"token\":" + json_str(token) +
              ",\"hash\":\"" + hash + "\"";
    }
    std::printf("%s}}\n", line.c_str());
    return true;
  });
  if (!visited) ++errors;
  auto q = (*store)->quarantined();
  std::size_t quarantined = q ? q->size() : 0;
  std::printf(
      "{\"summary\":{\"open\":\"ok\",\"recover\":%s,\"messages\":%zu,\"quarantined\":%zu,\"errors\":%d%s}}\n",
      recovered.c_str(), count, quarantined, errors,
      visited ? "" : (",\"for_each\":" + json_str(visited.error().message)).c_str());
  return errors == 0 && quarantined == 0 ? 0 : 1;
}
