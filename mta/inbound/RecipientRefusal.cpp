// RecipientRefusal: see RecipientRefusal.hpp. The line is parsed as a server reply
// (RFC 5321 §4.2, RFC 3463 status), so the hook's text cannot smuggle a second reply line.
#include "mta/inbound/RecipientRefusal.hpp"

#include <string>

#include "mta/smtp/ReplyParser.hpp"
#include "mta/smtp/ReplyText.hpp"

namespace ferry::inbound {

smtp::RecipientDecision recipient_refused(std::string_view reply_line) {
  const std::string_view line = reply_line.substr(0, reply_line.find_first_of("\r\n"));
  smtp::ReplyParser parser;
  parser.feed(std::string(line) + "\r\n");
  auto reply = parser.next();
  if (!reply || !*reply || (*reply)->code < 400)
    return smtp::RecipientDecision::reject(smtp::make_reply(451, "4.3.0", "Recipient check failed"));
  return smtp::RecipientDecision::reject(std::move(**reply));
}

}  // namespace ferry::inbound
