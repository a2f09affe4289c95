// MaildropFile: see MaildropFile.hpp. Every field is bounded: header lines at 1000 octets (the
// SMTP command line limit, RFC 5321 §4.5.3.1.4, since they end up in RCPT and MAIL commands),
// recipients at kMaildropMaxRecipients, the message at the configured size limit.
#include "mta/inbound/MaildropFile.hpp"

#include <charconv>

namespace ferry::inbound {
namespace {

constexpr std::string_view kMagic = "ferry-maildrop 1\n";
constexpr std::size_t kMaxLine = 1000;

Error bad(const std::string& why) { return make_error(ErrorKind::Invalid, why); }

// Printable ASCII or UTF-8, no spaces or controls (an address or an envid on one line).
bool clean_token(std::string_view s) {
  if (s.empty() || s.size() > kMaxLine) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>') return false;
  return true;
}

}  // namespace

std::string encode_maildrop(const MaildropEntry& e) {
  std::string out(kMagic);
  for (const auto& r : e.recipients) out += "rcpt " + r + "\n";
  if (e.notify != kNotifyUnspecified) out += "notify " + std::to_string(e.notify) + "\n";
  if (e.ret == DsnRet::Full) out += "ret full\n";
  if (e.ret == DsnRet::Hdrs) out += "ret hdrs\n";
  if (!e.envid.empty()) out += "envid " + e.envid + "\n";
  out += "\n";
  out += e.message;
  return out;
}

Result<MaildropEntry> decode_maildrop(std::string_view file, std::size_t max_message) {
  if (!file.starts_with(kMagic)) return bad("not a maildrop file (no \"ferry-maildrop 1\" line)");
  file.remove_prefix(kMagic.size());
  MaildropEntry e;
  for (;;) {
    const auto nl = file.find('\n');
    if (nl == std::string_view::npos || nl > kMaxLine) return bad("header line missing its end or too long");
    const std::string_view line = file.substr(0, nl);
    file.remove_prefix(nl + 1);
    if (line.empty()) break;
    const auto sp = line.find(' ');
    const std::string_view key = line.substr(0, sp);
    const std::string_view value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (key == "rcpt") {
      if (!clean_token(value)) return bad("bad recipient line");
      if (e.recipients.size() >= kMaildropMaxRecipients)
        return bad("more than " + std::to_string(kMaildropMaxRecipients) + " recipients");
      e.recipients.emplace_back(value);
    } else if (key == "notify") {
      int n = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 0 || n > 15)
        return bad("bad notify line");
      e.notify = n;
    } else if (key == "ret" && (value == "full" || value == "hdrs")) {
      e.ret = value == "full" ? DsnRet::Full : DsnRet::Hdrs;
    } else if (key == "envid" && clean_token(value)) {
      e.envid = std::string(value);
    } else {
      return bad("unknown or malformed header line");
    }
  }
  if (e.recipients.empty()) return bad("no recipients");
  if (file.size() > max_message)
    return bad("message of " + std::to_string(file.size()) + " bytes exceeds the limit of " +
               std::to_string(max_message));
  e.message = std::string(file);
  return e;
}

}  // namespace ferry::inbound
