// HttpSubmission: see HttpSubmission.hpp. A token holder is trusted as a client in the relay
// networks (its recipients may be anywhere), as sendmail's local users are; the From: address is
// not tied to the token (Postfix's smtpd_sender_login_maps has no equivalent here): give a token
// only to applications that may send as any of this server's domains.
#include "mta/inbound/HttpSubmission.hpp"

#include "ferry/text/SafeText.hpp"
#include "ferry/text/Xtext.hpp"
#include "mta/smtp/AddressParser.hpp"
#include "mta/smtp/DataReader.hpp"
#include "mta/smtp/OriginalTo.hpp"
#include "mta/smtp/ReplyText.hpp"
#include "mta/submit/MimeRender.hpp"

namespace ferry::inbound {
namespace {

bool has_8bit(std::string_view s) { return !text::is_ascii(s); }

HttpProblem problem(int status, std::string message, std::string field = {}) {
  return HttpProblem{status, std::move(message), std::move(field), {}};
}

// Each recipient through the relay rules (aliases, unknown local users) and then the refusal
// hook (the suppression list); refused ones are listed with their reply, the others accepted.
// `original_to` gets the addresses rewritten to the admin, for their X-Original-To: fields.
void add_recipients(const HttpSubmissionInputs& in, const submit::SubmitRequest& request, HttpSubmission& out,
                    std::vector<std::string>& original_to) {
  for (const auto& to : request.to) {
    const auto parsed = smtp::parse_path("<" + to + ">", smtp::PathKind::Forward, true);
    const auto d = in.relay.decide(parsed.path.address, true, true);
    if (d.kind == smtp::RecipientDecision::Kind::Reject) {
      std::string line = smtp::format_reply(d.reply);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      out.refused.push_back({to, std::move(line)});
      continue;
    }
    const std::string address =
        d.kind == smtp::RecipientDecision::Kind::Rewrite ? d.address : parsed.path.address;
    if (in.refusal) {
      if (auto reply = in.refusal(address)) {
        out.refused.push_back({to, std::move(*reply)});
        continue;
      }
    }
    EnvelopeRecipient rcpt;
    rcpt.address = address;
    if (d.kind == smtp::RecipientDecision::Kind::Rewrite)
      rcpt.orcpt = "rfc822;" + text::xtext_encode(parsed.path.address);
    if (d.original_to) original_to.push_back(parsed.path.address);
    out.envelope.smtputf8 = out.envelope.smtputf8 || parsed.path.utf8;
    out.envelope.recipients.push_back(std::move(rcpt));
  }
}

// RFC 5321 §4.4: this hop's trace field. "from" names the peer by its address literal
// (§4.1.3, "IPv6:" for IPv6) as TCP-info; "with HTTP" says how it came; the comment says which
// token, by its label.
std::string received_field(const HttpSubmissionInputs& in) {
  const std::string literal =
      "[" + std::string(in.client.ip.find(':') != std::string::npos ? "IPv6:" : "") + in.client.ip + "]";
  return "Received: from " + literal + " (" + literal + ")\r\n\tby " + in.hostname +
         " (Ferry) with HTTP (token " + in.client.token_label + ")\r\n\tid " + in.id.str() + "; " +
         smtp::format_rfc5322_date(in.now) + "\r\n";
}

}  // namespace

Result<HttpSubmission, HttpProblem> make_http_submission(const HttpSubmissionInputs& in,
                                                         const submit::SubmitRequest& request) {
  HttpSubmission out;
  std::vector<std::string> original_to;
  add_recipients(in, request, out, original_to);
  if (out.envelope.recipients.empty()) {
    HttpProblem p = problem(422, "every recipient was refused", "to");
    p.refused = std::move(out.refused);
    return p;
  }
  Envelope& env = out.envelope;
  env.reverse_path = request.from;
  env.smtputf8 = env.smtputf8 || has_8bit(request.from);
  env.client.address = in.client.ip;
  env.client.protocol = "HTTP";
  env.client.auth_user = "token " + in.client.token_label;
  std::string message;
  if (request.raw) {
    // RFC 5321 §6.3: a message that went round too often is a loop, as at SMTP's end of data.
    const auto max_hops = in.config.smtp.max_received_headers;
    if (max_hops != 0 && smtp::count_received_headers(*request.raw) > max_hops)
      return problem(400, "too many Received fields: a mail loop (RFC 5321 §6.3)", "raw");
    message = *request.raw;
  } else {
    submit::RenderContext ctx{in.hostname, in.now, in.id.str()};
    message = submit::render_message(request, ctx);
    out.message_id = "<" + ctx.unique + "@" + in.hostname + ">";
  }
  // The limit counts the client's message, as SMTP counts the octets after DATA (RFC 1870):
  // this hop's Received and DKIM-Signature fields are not the client's.
  const auto max = in.config.smtp.max_message_size;
  if (max != 0 && message.size() > max)
    return problem(413, "the message is " + std::to_string(message.size()) + " octets; the limit is " +
                            std::to_string(max) + " ([smtp] max_message_size)");
  env.body_type = has_8bit(message) ? BodyType::EightBitMime : BodyType::Unspecified;
  out.body = received_field(in) + smtp::original_to_fields(original_to) + message;
  return out;
}

}  // namespace ferry::inbound
