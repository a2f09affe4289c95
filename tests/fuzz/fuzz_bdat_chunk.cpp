// libFuzzer target: BDAT chunk sizes (RFC 3030) through ServerSession. The input is a list of
// chunks: one control byte (LAST flag, size form), a size field, then data. Sizes range from 0
// to far past 2^64 (decimal strings of up to 30 digits) so every overflow in the size checks is
// reachable. Invariants: a committed body never exceeds max_message_size; the session buffers no
// more than the limit plus one read (checked through the committed body and ASan's RSS limit);
// replies are complete CRLF lines with a 2xx-5xx code; a chunk announced bigger than the limit
// (when no earlier chunk is still being read) is answered 552 at once, before any of its octets.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mta/smtp/RelayPolicy.hpp"
#include "mta/smtp/ServerSession.hpp"

using namespace ferry;
using namespace ferry::smtp;

namespace {

constexpr std::uint64_t kMax = 4096;

void check_reply(std::string_view text) {
  if (text.size() < 5 || text.substr(text.size() - 2) != "\r\n") std::abort();
  const char c = text[0];
  if (c < '2' || c > '5') std::abort();
}

// A decimal size: small, near the limit, near 2^64, or a long digit string from the input.
std::string size_field(std::uint8_t form, std::string_view& in) {
  auto take = [&](std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n && !in.empty(); ++i, in.remove_prefix(1))
      v = v << 8 | static_cast<std::uint8_t>(in[0]);
    return v;
  };
  switch (form & 3) {
    case 0:
      return std::to_string(take(1));
    case 1:
      return std::to_string(kMax - 8 + take(1) % 16);
    case 2:
      return std::to_string(UINT64_MAX - take(1));
    default: {
      std::string digits = "1";
      for (std::size_t n = take(1) % 30; n > 0; --n) digits += static_cast<char>('0' + take(1) % 10);
      return digits;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  SessionPolicy policy;
  policy.hostname = "mx.example.org";
  policy.client_ip = "192.0.2.1";
  policy.max_message_size = kMax;
  policy.client_may_relay = true;
  policy.max_errors = 1000;
  policy.junk_command_limit = 0;  // refused BDATs count as junk; let the fuzzer send many
  RelayRules rules;
  rules.local_domains = {"example.org"};
  RelayPolicy relay(rules);
  SessionHooks hooks;
  std::uint64_t ids = 0;
  hooks.next_queue_id = [&] { return ferry::QueueId{++ids}; };
  hooks.now = [] { return WallTime{1704067200000, 60}; };
  hooks.decide_recipient = [&](std::string_view a, bool auth) { return relay.decide(a, true, auth); };

  ServerSession s(policy, hooks);
  s.start();
  bool closed = false;
  std::string replies;  // since the last check
  auto drain = [&] {
    for (int guard = 0; s.has_action(); ++guard) {
      if (guard > 100000 || closed) std::abort();
      SessionAction a = s.next_action();
      if (auto* r = std::get_if<SendReply>(&a)) {
        check_reply(r->text);
        replies += r->text;
      } else if (auto* c = std::get_if<CommitMessage>(&a)) {
        if (c->body.size() > kMax + 4096) std::abort();  // the limit plus our Received: header at most
        s.commit_result(Result<void>());
      } else if (std::holds_alternative<Close>(a)) {
        closed = true;
      }
    }
  };
  drain();
  s.feed("EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n");
  drain();
  // Each chunk that is not over the limit gets exactly its octets (input bytes, padded), so every
  // BDAT line is read as a command.
  bool refused = false;  // a 552 was given in this transaction
  while (in.size() >= 1 && !closed) {
    const std::uint8_t control = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    const std::string n = size_field(control, in);
    const bool last = control & 4;
    const bool huge = n.size() > 19 || std::stoull(n) > kMax;  // 20 digits are past kMax anyway
    replies.clear();
    s.feed("BDAT " + n + (last ? " LAST" : "") + "\r\n");
    drain();
    if (huge) {
      // RFC 3030 §4 / RFC 1870: refused when announced; nothing of it may be buffered.
      if (!refused && !closed && replies.rfind("552 ", 0) != 0) std::abort();
      break;  // the session now swallows that chunk: the rest of the input would all be its data
    }
    if (replies.find("552 ") != std::string::npos) refused = true;
    std::string chunk(in.substr(0, std::min<std::size_t>(in.size(), std::stoull(n))));
    in.remove_prefix(chunk.size());
    chunk.resize(std::stoull(n), 'x');
    s.feed(chunk);
    drain();
    if (last && !closed) {
      refused = false;
      s.feed("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n");
      drain();
    }
  }
  return 0;
}
