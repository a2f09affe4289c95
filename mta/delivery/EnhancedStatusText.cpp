// EnhancedStatusText: the registries as tables (see the header).
#include "mta/delivery/EnhancedStatusText.hpp"

namespace ferry::delivery {
namespace {

struct CodeText {
  int code;
  std::string_view text;
};

// RFC 5321 §4.2.2–4.2.3, RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 7504 (521/556), RFC 1870.
constexpr CodeText kCodes[] = {
    {211, "System status, or system help reply"},
    {214, "Help message"},
    {220, "Service ready"},
    {221, "Service closing transmission channel"},
    {235, "Authentication successful"},
    {250, "Requested mail action okay, completed"},
    {251, "User not local; will forward"},
    {252, "Cannot VRFY user, but will accept message and attempt delivery"},
    {334, "Authentication challenge"},
    {354, "Start mail input; end with <CRLF>.<CRLF>"},
    {421, "Service not available, closing transmission channel"},
    {432, "A password transition is needed"},
    {450, "Requested mail action not taken: mailbox unavailable (e.g. busy or temporarily blocked)"},
    {451, "Requested action aborted: local error in processing"},
    {452, "Requested action not taken: insufficient system storage"},
    {454, "Temporary authentication failure, or TLS not available"},
    {455, "Server unable to accommodate parameters"},
    {500, "Syntax error, command unrecognized"},
    {501, "Syntax error in parameters or arguments"},
    {502, "Command not implemented"},
    {503, "Bad sequence of commands"},
    {504, "Command parameter not implemented"},
    {521, "Host does not accept mail"},
    {530, "Authentication required (or STARTTLS first)"},
    {534, "Authentication mechanism is too weak"},
    {535, "Authentication credentials invalid"},
    {538, "Encryption required for requested authentication mechanism"},
    {550, "Requested action not taken: mailbox unavailable (e.g. not found, no access, or policy)"},
    {551, "User not local"},
    {552, "Requested mail action aborted: exceeded storage allocation"},
    {553, "Requested action not taken: mailbox name not allowed"},
    {554, "Transaction failed (or no SMTP service here)"},
    {555, "MAIL FROM/RCPT TO parameters not recognized or not implemented"},
    {556, "Domain does not accept mail"},
};

struct StatusText {
  int subject;
  int detail;
  std::string_view text;
};

// IANA "SMTP Enhanced Status Codes": RFC 3463, 3886, 4468, 4954, 5248, 6531, 6710, 7293, 7372,
// 7505, 8098/8617 (ARC), 8689 (REQUIRETLS).
constexpr StatusText kStatus[] = {
    {0, 0, "Other undefined Status"},
    {1, 0, "Other address status"},
    {1, 1, "Bad destination mailbox address"},
    {1, 2, "Bad destination system address"},
    {1, 3, "Bad destination mailbox address syntax"},
    {1, 4, "Destination mailbox address ambiguous"},
    {1, 5, "Destination address valid"},
    {1, 6, "Destination mailbox has moved, No forwarding address"},
    {1, 7, "Bad sender's mailbox address syntax"},
    {1, 8, "Bad sender's system address"},
    {1, 9, "Message relayed to non-compliant mailer"},
    {1, 10, "Recipient address has null MX"},
    {2, 0, "Other or undefined mailbox status"},
    {2, 1, "Mailbox disabled, not accepting messages"},
    {2, 2, "Mailbox full"},
    {2, 3, "Message length exceeds administrative limit"},
    {2, 4, "Mailing list expansion problem"},
    {3, 0, "Other or undefined mail system status"},
    {3, 1, "Mail system full"},
    {3, 2, "System not accepting network messages"},
    {3, 3, "System not capable of selected features"},
    {3, 4, "Message too big for system"},
    {3, 5, "System incorrectly configured"},
    {3, 6, "Requested priority was changed"},
    {4, 0, "Other or undefined network or routing status"},
    {4, 1, "No answer from host"},
    {4, 2, "Bad connection"},
    {4, 3, "Directory server failure"},
    {4, 4, "Unable to route"},
    {4, 5, "Mail system congestion"},
    {4, 6, "Routing loop detected"},
    {4, 7, "Delivery time expired"},
    {5, 0, "Other or undefined protocol status"},
    {5, 1, "Invalid command"},
    {5, 2, "Syntax error"},
    {5, 3, "Too many recipients"},
    {5, 4, "Invalid command arguments"},
    {5, 5, "Wrong protocol version"},
    {5, 6, "Authentication Exchange line is too long"},
    {6, 0, "Other or undefined media error"},
    {6, 1, "Media not supported"},
    {6, 2, "Conversion required and prohibited"},
    {6, 3, "Conversion required but not supported"},
    {6, 4, "Conversion with loss performed"},
    {6, 5, "Conversion Failed"},
    {6, 6, "Message content not available"},
    {6, 7, "Non-ASCII addresses not permitted for that sender/recipient"},
    {6, 8, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    {6, 9, "UTF-8 header message cannot be transferred to one or more recipients"},
    {6, 10, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    {7, 0, "Other or undefined security status"},
    {7, 1, "Delivery not authorized, message refused"},
    {7, 2, "Mailing list expansion prohibited"},
    {7, 3, "Security conversion required but not possible"},
    {7, 4, "Security features not supported"},
    {7, 5, "Cryptographic failure"},
    {7, 6, "Cryptographic algorithm not supported"},
    {7, 7, "Message integrity failure"},
    {7, 8, "Authentication credentials invalid"},
    {7, 9, "Authentication mechanism is too weak"},
    {7, 10, "Encryption Needed"},
    {7, 11, "Encryption required for requested authentication mechanism"},
    {7, 12, "A password transition is needed"},
    {7, 13, "User Account Disabled"},
    {7, 14, "Trust relationship required"},
    {7, 15, "Priority Level is too low"},
    {7, 16, "Message is too big for the specified priority"},
    {7, 17, "Mailbox owner has changed"},
    {7, 18, "Domain owner has changed"},
    {7, 19, "RRVS test cannot be completed"},
    {7, 20, "No passing DKIM signature found"},
    {7, 21, "No acceptable DKIM signature found"},
    {7, 22, "No valid author-matched DKIM signature found"},
    {7, 23, "SPF validation failed"},
    {7, 24, "SPF validation error"},
    {7, 25, "Reverse DNS validation failed"},
    {7, 26, "Multiple authentication checks failed"},
    {7, 27, "Sender address has null MX"},
    {7, 28, "Mail flood detected"},
    {7, 29, "ARC validation failure"},
    {7, 30, "REQUIRETLS support required"},
};

}  // namespace

std::string_view reply_class_meaning(int code) {
  switch (code / 100) {
    case 2:
      return "Positive Completion";
    case 3:
      return "Positive Intermediate";
    case 4:
      return "Transient Negative Completion (try again later)";
    case 5:
      return "Permanent Negative Completion (do not retry as is)";
  }
  return {};
}

std::string_view reply_code_meaning(int code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c.text;
  return {};
}

std::string_view status_class_meaning(int klass) {
  switch (klass) {
    case 2:
      return "Success";
    case 4:
      return "Persistent Transient Failure";
    case 5:
      return "Permanent Failure";
  }
  return {};
}

std::string_view status_subject_meaning(int subject) {
  switch (subject) {
    case 0:
      return "Other or Undefined Status";
    case 1:
      return "Addressing Status";
    case 2:
      return "Mailbox Status";
    case 3:
      return "Mail System Status";
    case 4:
      return "Network and Routing Status";
    case 5:
      return "Mail Delivery Protocol Status";
    case 6:
      return "Message Content or Media Status";
    case 7:
      return "Security or Policy Status";
  }
  return {};
}

std::string_view status_detail_meaning(int subject, int detail) {
  for (const auto& s : kStatus)
    if (s.subject == subject && s.detail == detail) return s.text;
  return {};
}

std::string describe_status(const EnhancedStatus& status) {
  if (!status.present()) return {};
  std::string out = status.str();
  out += ' ';
  out += status_class_meaning(status.klass);
  if (auto subject = status_subject_meaning(status.subject); !subject.empty()) {
    out += ", ";
    out += subject;
  }
  auto detail = status_detail_meaning(status.subject, status.detail);
  out += ": ";
  out += detail.empty() ? std::string_view("(not in the registry)") : detail;
  return out;
}

}  // namespace ferry::delivery
