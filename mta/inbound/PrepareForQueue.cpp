// PrepareForQueue: see PrepareForQueue.hpp. The order of the fields this hop adds is decided here
// only, so mail accepted over SMTP and mail from local users leave in the same shape.
#include "mta/inbound/PrepareForQueue.hpp"

#include "mta/inbound/MessageIdField.hpp"

namespace ferry::inbound {

// Each hop prepends its trace field (RFC 5321 §4.4; RFC 5322 §3.6.7 keeps trace blocks at the
// top, newest first). The signature is the last thing this hop adds: it is computed over the
// message as it leaves, our Received field included, and inserted above it, as RFC 6376 §5.6
// has a signer prepend its DKIM-Signature to the header block it signed. A later hop's Received
// then goes above our signature, which keeps verifying since it covers nothing added after it.
Result<SignReport> sign_for_queue(std::string& body, const dkim::DkimSigner* signer, TimeMs now) {
  if (!signer || signer->empty()) return SignReport{};
  auto out = signer->sign(body, now);
  if (!out) return make_error(ErrorKind::Security, out.error().message);
  if (!out->headers.empty()) body.insert(0, out->headers);
  return SignReport{std::move(out->domain), std::move(out->skipped)};
}

queue::NewMessage to_queue_record(QueueId id, Envelope envelope, std::string body, TimeMs now) {
  queue::NewMessage message;
  message.id = id;
  message.envelope = std::move(envelope);
  message.envelope.size = body.size();
  if (message.envelope.arrival_ms == 0) message.envelope.arrival_ms = now;
  // The delivery events name the message by its Message-ID; the queue never parses headers.
  if (message.envelope.message_id.empty()) message.envelope.message_id = message_id_field(body);
  message.first_due_ms = message.envelope.arrival_ms;
  message.body = std::move(body);
  return message;
}

Result<queue::NewMessage> prepare_for_queue(QueueId id, Envelope envelope, std::string body,
                                            const dkim::DkimSigner* signer, TimeMs now) {
  if (auto signed_ = sign_for_queue(body, signer, now); !signed_) return signed_.error();
  return to_queue_record(id, std::move(envelope), std::move(body), now);
}

}  // namespace ferry::inbound
