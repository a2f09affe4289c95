// QueueFormat: see QueueFormat.hpp. The text layout follows Postfix's mailq in spirit: the
// queue id, size, arrival and sender, then one line per recipient with why it is still here.
#include "mta/cli/QueueFormat.hpp"

#include <ctime>
#include <sstream>

#include "ferry/JsonWriter.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/delivery/AttemptText.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/submit/MessageJson.hpp"

namespace ferry::cli {
namespace {

// Text output goes to a terminal: everything a client or a remote server wrote (addresses, HELO,
// AUTH user, remote replies, stored headers) is escaped, so an ESC sequence or a CR cannot
// rewrite the screen or fake a line. JSON output escapes on its own (JsonWriter).
std::string safe(std::string_view text) { return text::safe_text(text); }

// The header section, one escaped line per header line.
std::string safe_lines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    text::append_safe_text(out, line);
    out += '\n';
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string sender_text(const Envelope& e) { return "<" + safe(e.reverse_path) + ">"; }

}  // namespace

std::string format_time(TimeMs ms) { return submit::iso_time(ms); }

std::string format_list_header() {
  return "-Queue ID-------- ---Size-- ----Arrival Time---- -Sender/Recipient-------\n";
}

std::string format_list_entry_text(const queue::MessageRecord& m) {
  const Envelope& e = m.envelope;
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "%-17s %9llu %-20s ", m.id.str().c_str(),
                static_cast<unsigned long long>(e.size), format_time(e.arrival_ms).c_str());
  out << line << sender_text(e) << "\n";
  for (const auto& r : m.recipients) {
    const std::string addr = r.index < e.recipients.size() ? safe(e.recipients[r.index].address) : "?";
    out << "    " << addr << "  " << (r.leased ? "active" : to_string(r.state))
        << "  attempts=" << r.attempts;
    if (r.state == RecipientState::Pending) out << "  next=" << format_time(r.next_attempt_ms);
    out << "\n";
    if (r.last) {
      out << "        (" << format_time(r.last->time_ms) << " " << safe(delivery::relay_text(*r.last)) << ": "
          << safe(delivery::reply_text(*r.last)) << ")\n";
    }
  }
  out << "\n";
  return out.str();
}

std::string format_list_footer(std::uint64_t total_bytes, std::size_t count) {
  return "-- " + std::to_string((total_bytes + 1023) / 1024) + " Kbytes in " + std::to_string(count) +
         (count == 1 ? " Request.\n" : " Requests.\n");
}

std::string format_list_text(const std::vector<queue::MessageRecord>& messages) {
  if (messages.empty()) return "Mail queue is empty\n";
  std::string out = format_list_header();
  std::uint64_t total = 0;
  for (const auto& m : messages) {
    total += m.envelope.size;
    out += format_list_entry_text(m);
  }
  return out + format_list_footer(total, messages.size());
}

std::string format_list_entry_json(const queue::MessageRecord& m) {
  JsonWriter j;
  submit::write_message_json(j, m, false);
  return j.str();
}

std::string format_list_json(const std::vector<queue::MessageRecord>& messages) {
  std::string out = "[";
  for (std::size_t i = 0; i < messages.size(); ++i)
    out += (i ? "," : "") + format_list_entry_json(messages[i]);
  return out + "]\n";
}

std::string format_show_text(const queue::MessageRecord& m, std::string_view body) {
  const Envelope& e = m.envelope;
  std::ostringstream out;
  out << "Queue ID:    " << m.id.str() << "\n"
      << "Sender:      " << sender_text(e) << "\n"
      << "Arrival:     " << format_time(e.arrival_ms) << "\n"
      << "Size:        " << e.size << "\n"
      << "Client:      " << (e.client.address.empty() ? "local" : safe(e.client.address))
      << (e.client.helo.empty() ? "" : " (helo " + safe(e.client.helo) + ")")
      << (e.client.auth_user.empty() ? "" : " auth=" + safe(e.client.auth_user))
      << (e.client.protocol.empty() ? "" : " with " + safe(e.client.protocol)) << "\n";
  if (e.body_type != BodyType::Unspecified)
    out << "Body:        " << submit::body_type_name(e.body_type) << "\n";
  if (e.smtputf8) out << "SMTPUTF8:    yes\n";
  if (e.require_tls) out << "REQUIRETLS:  yes (validated TLS to a REQUIRETLS server only)\n";
  if (e.ret != DsnRet::Unspecified) out << "DSN RET:     " << submit::dsn_ret_name(e.ret) << "\n";
  if (!e.envid.empty()) out << "DSN ENVID:   " << safe(e.envid) << "\n";
  if (m.delay_warning_sent_ms) out << "Delay warning sent: " << format_time(m.delay_warning_sent_ms) << "\n";
  out << "Recipients:\n";
  for (const auto& r : m.recipients) {
    const auto& er = r.index < e.recipients.size() ? e.recipients[r.index] : EnvelopeRecipient{};
    out << "  " << safe(er.address) << "  " << (r.leased ? "active" : to_string(r.state))
        << "  attempts=" << r.attempts;
    if (r.state == RecipientState::Pending) out << "  next=" << format_time(r.next_attempt_ms);
    if (r.first_attempt_ms) out << "  first-attempt=" << format_time(r.first_attempt_ms);
    out << "\n";
    if (!er.orcpt.empty()) out << "    ORCPT=" << safe(er.orcpt) << "\n";
    if (er.notify) out << "    NOTIFY=" << submit::notify_names(er.notify) << "\n";
    for (const auto& a : r.history) {
      out << "    " << format_time(a.time_ms) << " " << to_string(a.outcome) << " "
          << safe(delivery::relay_text(a));
      if (!a.tls.empty()) out << " tls=" << safe(a.tls);
      out << ": " << safe(delivery::reply_text(a)) << "\n";
      // "why is this stuck?": the category of the reply and what to do about it
      const auto c = delivery::classify_reply_category(a);
      if (!c.category.empty()) {
        out << "      category: " << c.category;
        if (!c.detail.empty()) out << " (" << safe(c.detail) << ")";
        out << ": " << c.advice << "\n";
      }
    }
    if (r.state == RecipientState::Pending && !r.leased)
      out << "    next retry: " << format_time(r.next_attempt_ms) << "\n";
    else if (r.leased)
      out << "    next retry: now (an attempt is in progress)\n";
  }
  out << "Headers:\n" << safe_lines(submit::header_section(body));
  std::string s = out.str();
  if (!s.empty() && s.back() != '\n') s += "\n";
  return s;
}

std::string format_show_json(const queue::MessageRecord& m, std::string_view body) {
  return submit::message_show_json(m, body);
}

}  // namespace ferry::cli
