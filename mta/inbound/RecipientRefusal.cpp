// RecipientRefusal: see RecipientRefusal.hpp. The line is parsed as a server reply
// (RFC 5321 §4.2, RFC 3463 status), so the hook's text cannot smuggle a second reply line.
#include "mta/inbound/RecipientRefusal.hpp"

#include <string>

#include "mta/smtp/ReplyParser.hpp"
#include "mta/smtp/ReplyText.hpp"

namespace ferry::inbound {

smtp::RecipientDecision recipient_refused(std::string_view reply_line, std::string_view looked_up,
                                          std::string_view given) {
  std::string line(reply_line.substr(0, reply_line.find_first_of("\r\n")));
  if (!looked_up.empty() && looked_up != given) {
    const std::string target = "<" + std::string(looked_up) + ">";
    if (auto at = line.find(target); at != std::string::npos)
      line.replace(at, target.size(), "<" + std::string(given) + ">");
  }
  smtp::ReplyParser parser;
  parser.feed(line + "\r\n");
  auto reply = parser.next();
  if (!reply || !*reply || (*reply)->code < 400)
    return smtp::RecipientDecision::reject(smtp::make_reply(451, "4.3.0", "Recipient check failed"));
  return smtp::RecipientDecision::reject(std::move(**reply));
}

}  // namespace ferry::inbound
