// Advice: explanation table keyed on RFC 3463 codes (see Advice.hpp). Wording is for senders,
// not postmasters: no jargon beyond what is needed to act.
#include "mta/dsn/Advice.hpp"

#include <string>

namespace ferry::dsn {
namespace {

struct Row {
  std::string_view key;  // "5.1.1" exact, "x.1.1" any class, "x.7" any class and detail, "5" class
  Advice advice;
};

constexpr Row kRows[] = {
    {"x.1.1",
     {"The recipient's mail server says this mailbox does not exist.",
      "Check the address for typing mistakes, or ask the recipient for their current address."}},
    {"x.1.2",
     {"The recipient's domain (the part after the @) does not exist or cannot be found.",
      "Check the domain for typing mistakes."}},
    {"x.1.3",
     {"The recipient's address is not a valid e-mail address.", "Check the address for typing mistakes."}},
    {"x.1.6",
     {"The recipient's mailbox has moved and no longer accepts mail here.",
      "Ask the recipient for their new address."}},
    {"x.1.10",
     {"The recipient's domain has declared that it does not accept any mail (a \"null MX\" record, RFC "
      "7505).",
      "Check the domain for typing mistakes; mail to this domain cannot be delivered."}},
    {"x.2.1",
     {"The recipient's mailbox is disabled and not accepting messages.",
      "Reach the recipient another way, or ask for a different address."}},
    {"4.2.2",
     {"The recipient's mailbox is full for the moment.",
      "Nothing yet: delivery is being retried. The recipient may need to free up space."}},
    {"x.2.2",
     {"The recipient's mailbox is full.",
      "Try again later, or reach the recipient another way so they can free up space."}},
    {"x.2.3",
     {"The message is larger than the recipient's mailbox accepts.",
      "Send a smaller message, for example by sharing large attachments as a link."}},
    {"x.3.4",
     {"The message is larger than the recipient's mail server accepts.",
      "Send a smaller message, for example by sharing large attachments as a link."}},
    {"x.4.1",
     {"The recipient's mail server did not answer.",
      "Nothing yet if delivery is still being retried; otherwise try again later."}},
    {"x.4.2",
     {"The connection to the recipient's mail server was lost during delivery.",
      "Nothing yet if delivery is still being retried; otherwise try again later."}},
    {"x.4.3",
     {"The recipient's domain could not be looked up in the DNS for the moment.",
      "Nothing yet if delivery is still being retried; otherwise check the domain and try again later."}},
    {"x.4.4",
     {"No mail server could be found that accepts mail for the recipient's domain.",
      "Check the domain for typing mistakes."}},
    {"x.4.6",
     {"The message was going round in a loop between mail servers.",
      "Tell the postmaster of the recipient's domain; their mail routing is misconfigured."}},
    {"4.4.7",
     {"The message could not be delivered within the time allowed: the recipient's mail server kept refusing "
      "or could not be reached.",
      "Check the address, and try again later or reach the recipient another way."}},
    {"5.4.7",
     {"The message could not be delivered within the time allowed.",
      "Check the address, and try again later or reach the recipient another way."}},
    {"x.5",
     {"The mail servers could not agree on how to transfer the message.",
      "Try again later; if it keeps happening, tell your mail administrator."}},
    {"x.6.3",
     {"The recipient's mail server cannot accept the message's 8-bit content.",
      "Send the message again as plain text or with your mail program's default settings."}},
    {"x.6.7",
     {"The recipient's mail server cannot accept addresses or headers written in non-ASCII characters.",
      "Use an ASCII form of the address if the recipient has one."}},
    {"x.6",
     {"The recipient's mail server could not handle the message's content or format.",
      "Send the message again in a simpler form (plain text, fewer or smaller attachments)."}},
    {"x.7.1",
     {"The recipient's mail server refused the message for policy reasons, often spam filtering or sender "
      "reputation.",
      "If you think this is a mistake, contact the recipient by other means and include this report."}},
    {"x.7.26",
     {"The recipient's mail server could not verify that the message really comes from your domain (SPF, "
      "DKIM or DMARC).",
      "Ask your mail administrator to check your domain's SPF, DKIM and DMARC settings."}},
    {"4.7",
     {"The recipient's mail server is refusing the message for the moment (often greylisting or rate "
      "limiting).",
      "Nothing yet: delivery is being retried. You do not need to send the message again."}},
    {"x.7",
     {"The recipient's mail server refused the message for security or policy reasons (for example spam "
      "filtering, or sender authentication).",
      "If you think this is a mistake, contact the recipient by other means and include this report."}},
    {"2", {"The message was accepted.", "Nothing."}},
    {"4",
     {"A temporary problem is delaying delivery.",
      "Nothing yet: delivery is being retried. You do not need to send the message again."}},
    {"5",
     {"The recipient's mail server refused the message permanently.",
      "Check the address; if it is right, contact the recipient by other means and include this report."}},
};

}  // namespace

Advice advice_for(std::string_view status) {
  // Split "c.s.d".
  const std::size_t d1 = status.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : status.find('.', d1 + 1);
  const std::string_view klass = status.substr(0, d1 == std::string_view::npos ? status.size() : d1);
  std::string subject, any_class, any_detail;
  if (d2 != std::string_view::npos) {
    subject = std::string(status.substr(0, d2));
    any_class = "x" + std::string(status.substr(d1));
    any_detail = "x" + std::string(status.substr(d1, d2 - d1));
  }
  // Most specific first: "4.2.2", "4.7", "x.2.2", "x.7", "4".
  for (const std::string_view key : {status, std::string_view(subject), std::string_view(any_class),
                                     std::string_view(any_detail), klass}) {
    if (key.empty()) continue;
    for (const Row& row : kRows)
      if (row.key == key) return row.advice;
  }
  return kRows[std::size(kRows) - 1].advice;
}

}  // namespace ferry::dsn
