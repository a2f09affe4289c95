// libFuzzer target: ServerSession.feed with arbitrary bytes, split into packets at 0xFF bytes;
// the daemon's side answers every action (commit ok/fail, auth ok/fail, TLS) from control bits.
// Invariants: replies are complete CRLF lines of at most 512 octets with a 2xx-5xx code;
// "queued as" appears exactly once per successful commit result; nothing follows Close.
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

void check_reply(std::string_view text) {
  if (text.size() < 2 || text.substr(text.size() - 2) != "\r\n") std::abort();
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    if (end == std::string_view::npos || end + 2 - start > 512 || end - start < 3) std::abort();
    const char c = text[start];
    if (c < '2' || c > '5') std::abort();
    start = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  std::uint8_t answers = data[1];
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  SessionPolicy policy;
  policy.hostname = "mx.example.org";
  policy.client_ip = "192.0.2.1";
  policy.max_message_size = (flags & 1) ? 200 : 0;
  policy.bare_newline = (flags & 2) ? BareNewlinePolicy::Reject : BareNewlinePolicy::Normalize;
  policy.tls_available = flags & 4;
  policy.auth_available = true;
  policy.allow_plaintext_auth = flags & 8;
  policy.auth_required = flags & 16;
  policy.client_may_relay = flags & 32;
  policy.sign_messages = flags & 1;
  policy.max_recipients = 5;
  policy.max_errors = (flags & 64) ? 3 : 50;
  RelayRules rules;
  rules.local_domains = {"example.org"};
  rules.aliases = {{"root", "admin@example.net"}};
  RelayPolicy relay(rules);
  const bool may_relay = policy.client_may_relay;
  std::uint64_t ids = 0;
  SessionHooks hooks;
  hooks.next_queue_id = [&] { return ferry::QueueId{++ids}; };
  hooks.now = [] { return WallTime{1704067200000, 60}; };
  hooks.decide_recipient = [&](std::string_view a, bool auth) { return relay.decide(a, may_relay, auth); };

  ServerSession s(policy, hooks);
  s.start();
  std::size_t ok_commits = 0, queued_replies = 0;
  bool closed = false;
  auto drain = [&] {
    for (int guard = 0; s.has_action(); ++guard) {
      if (guard > 100000) std::abort();
      SessionAction a = s.next_action();
      if (closed) std::abort();  // nothing after Close
      if (auto* r = std::get_if<SendReply>(&a)) {
        check_reply(r->text);
        for (std::size_t p = r->text.find("queued as"); p != std::string::npos;
             p = r->text.find("queued as", p + 1))
          ++queued_replies;
      } else if (std::holds_alternative<StartTls>(a)) {
        s.tls_started("TLSv1.3", "TLS_AES_128_GCM_SHA256");
      } else if (std::holds_alternative<VerifyAuth>(a)) {
        s.auth_result((answers & 1) ? AuthOutcome::Ok : AuthOutcome::Invalid);
        answers = static_cast<std::uint8_t>((answers >> 1) | (answers << 7));
      } else if (auto* g = std::get_if<SignMessage>(&a)) {
        if (g->queue_id.value == 0) std::abort();
        if (answers & 1)
          s.sign_result(std::move(g->body));
        else
          s.sign_result(make_error((answers & 2) ? ErrorKind::Busy : ErrorKind::Security, "x"));
        answers = static_cast<std::uint8_t>((answers >> 1) | (answers << 7));
      } else if (auto* c = std::get_if<CommitMessage>(&a)) {
        if (c->envelope.recipients.empty() || c->queue_id.value == 0) std::abort();
        if (answers & 1) {
          ++ok_commits;
          s.commit_result(Result<void>());
        } else {
          s.commit_result(make_error((answers & 2) ? ErrorKind::MapFull : ErrorKind::Io, "x"));
        }
        answers = static_cast<std::uint8_t>((answers >> 1) | (answers << 7));
      } else if (std::holds_alternative<Close>(a)) {
        closed = true;
      }
    }
  };
  drain();
  while (!in.empty()) {
    const std::size_t cut = in.find('\xff');
    const std::string_view piece = in.substr(0, cut);
    if (flags & 128) {
      // The daemon's memory budget: the body grown before a read, or the message dropped.
      const std::size_t bound = s.body_growth_bound(piece.size());
      if (bound != 0 && (answers & 4))
        s.drop_message();
      else if (bound != 0)
        s.reserve_body(s.body_size() + bound);
      s.feed(piece);
    } else {
      s.feed(piece);
    }
    drain();
    if (cut == std::string_view::npos) break;
    in.remove_prefix(cut + 1);
  }
  s.commit_result(Result<void>());  // unsolicited: must not produce "queued as"
  drain();
  if (queued_replies != ok_commits) std::abort();
  return 0;
}
