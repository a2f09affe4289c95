// LocalSubmission: see LocalSubmission.hpp. A local user is trusted like a client in the relay
// networks (its recipients may be anywhere) and its mail is DKIM-signed as relayed mail is.
#include "mta/inbound/LocalSubmission.hpp"

#include "ferry/text/Xtext.hpp"
#include "mta/inbound/PrepareForQueue.hpp"
#include "mta/policy/SmtpPolicy.hpp"
#include "mta/smtp/AddressParser.hpp"
#include "mta/smtp/Masquerade.hpp"
#include "mta/smtp/OriginalTo.hpp"
#include "mta/smtp/RelayPolicy.hpp"

namespace ferry::inbound {
namespace {

bool is_8bit(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return true;
  return false;
}

// Adds the recipients as the SMTP server would; `original_to` gets those rewritten to the admin.
Result<void> add_recipients(const config::Config& cfg, const std::string& hostname, const LocalSubmission& s,
                            Envelope& env, std::vector<std::string>& original_to) {
  smtp::RelayPolicy policy(policy::relay_rules(cfg, hostname));
  for (const auto& r : s.recipients) {
    auto parsed = smtp::parse_path("<" + r + ">", smtp::PathKind::Forward, true);
    if (!parsed.ok())
      return make_error(ErrorKind::NotFound, "recipient <" + r + ">: " + smtp::to_string(parsed.error));
    auto d = policy.decide(parsed.path.address, true, true);
    if (d.kind == smtp::RecipientDecision::Kind::Reject)
      return make_error(ErrorKind::NotFound, "recipient <" + r + ">: " + d.reply.text);
    EnvelopeRecipient rcpt;
    rcpt.notify = static_cast<std::uint8_t>(s.notify);
    rcpt.address = d.kind == smtp::RecipientDecision::Kind::Rewrite ? d.address : parsed.path.address;
    if (d.kind == smtp::RecipientDecision::Kind::Rewrite)
      rcpt.orcpt = "rfc822;" + text::xtext_encode(parsed.path.address);
    if (d.original_to) original_to.push_back(parsed.path.address);
    env.smtputf8 = env.smtputf8 || parsed.path.utf8;
    env.recipients.push_back(std::move(rcpt));
  }
  return {};
}

}  // namespace

Result<queue::NewMessage> make_local_message(const config::Config& cfg, const std::string& hostname,
                                             const dkim::DkimSigner* signer, const LocalSubmission& s,
                                             QueueId id, smtp::WallTime now) {
  Envelope env;
  const smtp::MasqueradeRule masquerade = policy::masquerade_rule(cfg, hostname);
  env.reverse_path = smtp::masquerade_address(s.sender, masquerade);
  if (!s.sender.empty()) {
    auto parsed = smtp::parse_path("<" + s.sender + ">", smtp::PathKind::Reverse, true);
    if (!parsed.ok())
      return make_error(ErrorKind::Invalid, "sender <" + s.sender + ">: " + smtp::to_string(parsed.error));
  }
  env.ret = s.ret;
  env.envid = s.envid;
  env.body_type = is_8bit(s.message) ? BodyType::EightBitMime : BodyType::Unspecified;
  env.smtputf8 = is_8bit(s.sender);
  env.client.protocol = "local";
  env.client.helo = s.login;
  std::vector<std::string> original_to;
  if (auto added = add_recipients(cfg, hostname, s, env, original_to); !added) return added.error();
  // Postfix writes "(Postfix, from userid N)": the trace says which local user sent it.
  std::string body = "Received: by " + hostname + " (Ferry, from userid " + std::to_string(s.uid) +
                     ")\r\n\tid " + id.str() + "; " + smtp::format_rfc5322_date(now) + "\r\n" +
                     smtp::original_to_fields(original_to) + s.message;
  smtp::masquerade_from_field(body, masquerade);
  // Signed and shaped as the SMTP server does it: one acceptance path for both.
  auto msg = prepare_for_queue(id, std::move(env), std::move(body), signer, now.unix_ms);
  if (!msg) return make_error(ErrorKind::Security, "DKIM signing failed: " + msg.error().message);
  if (cfg.smtp.max_message_size && msg->body.size() > cfg.smtp.max_message_size)
    return make_error(ErrorKind::Invalid, "message size " + std::to_string(msg->body.size()) +
                                              " exceeds the limit of " +
                                              std::to_string(cfg.smtp.max_message_size));
  return msg;
}

}  // namespace ferry::inbound
