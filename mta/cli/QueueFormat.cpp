// QueueFormat: see QueueFormat.hpp. The text layout follows Postfix's mailq in spirit: the
// queue id, size, arrival and sender, then one line per recipient with why it is still here.
#include "mta/cli/QueueFormat.hpp"

#include <ctime>
#include <sstream>

#include "ferry/text/SafeText.hpp"
#include "mta/cli/Json.hpp"
#include "mta/delivery/AttemptText.hpp"
#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::cli {
namespace {

const char* ret_name(DsnRet r) {
  switch (r) {
    case DsnRet::Full:
      return "FULL";
    case DsnRet::Hdrs:
      return "HDRS";
    default:
      return "";
  }
}

const char* body_name(BodyType b) {
  switch (b) {
    case BodyType::SevenBit:
      return "7BIT";
    case BodyType::EightBitMime:
      return "8BITMIME";
    case BodyType::BinaryMime:
      return "BINARYMIME";
    default:
      return "";
  }
}

std::string notify_text(std::uint8_t n) {
  if (n == kNotifyUnspecified) return "";
  if (n & kNotifyNever) return "NEVER";
  std::string out;
  auto add = [&](const char* s) { out += out.empty() ? s : std::string(",") + s; };
  if (n & kNotifySuccess) add("SUCCESS");
  if (n & kNotifyFailure) add("FAILURE");
  if (n & kNotifyDelay) add("DELAY");
  return out;
}

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

void attempt_json(JsonWriter& j, const Attempt& a) {
  j.begin_object();
  j.key("time").value(format_time(a.time_ms));
  j.key("outcome").value(to_string(a.outcome));
  j.key("host").value(a.host);
  j.key("ip").value(a.ip);
  j.key("port").value(static_cast<unsigned>(a.port));
  j.key("code").value(a.code);
  j.key("status").value(a.status);
  j.key("reply").value(a.reply);
  // The connection's TLS ("none": plaintext); null when no connection was made or not recorded.
  j.key("tls");
  if (a.tls.empty())
    j.null();
  else
    j.value(a.tls);
  // Why it failed, in the fixed vocabulary of mta/delivery/ReplyCategory (null when delivered).
  const auto c = delivery::classify_reply_category(a);
  j.key("category");
  if (c.category.empty())
    j.null();
  else
    j.value(c.category);
  j.key("advice");
  if (c.advice.empty())
    j.null();
  else
    j.value(c.advice);
  j.key("detail");
  if (c.detail.empty())
    j.null();
  else
    j.value(c.detail);
  j.end_object();
}

void message_json(JsonWriter& j, const queue::MessageRecord& m, bool with_history) {
  const Envelope& e = m.envelope;
  j.begin_object();
  j.key("id").value(m.id.str());
  j.key("size").value(static_cast<std::uint64_t>(e.size));
  j.key("arrival").value(format_time(e.arrival_ms));
  j.key("sender").value(e.reverse_path);
  if (with_history) {
    j.key("ret").value(ret_name(e.ret));
    j.key("envid").value(e.envid);
    j.key("body_type").value(body_name(e.body_type));
    j.key("smtputf8").value(e.smtputf8);
    j.key("require_tls").value(e.require_tls);  // RFC 8689 REQUIRETLS
    j.key("client").begin_object();
    j.key("address").value(e.client.address);
    j.key("helo").value(e.client.helo);
    j.key("auth_user").value(e.client.auth_user);
    j.key("protocol").value(e.client.protocol);
    j.end_object();
    j.key("delay_warning_sent").value(format_time(m.delay_warning_sent_ms));
  }
  j.key("recipients").begin_array();
  for (const auto& r : m.recipients) {
    const auto& er = r.index < e.recipients.size() ? e.recipients[r.index] : EnvelopeRecipient{};
    j.begin_object();
    j.key("address").value(er.address);
    j.key("state").value(to_string(r.state));
    j.key("active").value(r.leased);
    j.key("attempts").value(static_cast<unsigned>(r.attempts));
    j.key("next_attempt")
        .value(r.state == RecipientState::Pending ? format_time(r.next_attempt_ms) : std::string("-"));
    if (with_history) {
      j.key("orcpt").value(er.orcpt);
      j.key("notify").value(notify_text(er.notify));
    }
    j.key("last_attempt");
    if (r.last)
      attempt_json(j, *r.last);
    else
      j.null();
    if (with_history) {
      j.key("history").begin_array();
      for (const auto& a : r.history) attempt_json(j, a);
      j.end_array();
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace

std::string format_time(TimeMs ms) {
  if (ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string_view header_section(std::string_view body) {
  if (body.starts_with("\r\n") || body.starts_with("\n")) return {};
  auto pos = body.find("\r\n\r\n");
  auto lf = body.find("\n\n");
  if (pos == std::string_view::npos && lf == std::string_view::npos) return body;
  if (pos == std::string_view::npos || (lf != std::string_view::npos && lf < pos))
    return body.substr(0, lf + 1);
  return body.substr(0, pos + 2);
}

std::string format_list_text(const std::vector<queue::MessageRecord>& messages) {
  if (messages.empty()) return "Mail queue is empty\n";
  std::ostringstream out;
  out << "-Queue ID-------- ---Size-- ----Arrival Time---- -Sender/Recipient-------\n";
  std::uint64_t total = 0;
  for (const auto& m : messages) {
    const Envelope& e = m.envelope;
    total += e.size;
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
        out << "        (" << format_time(r.last->time_ms) << " " << safe(delivery::relay_text(*r.last))
            << ": " << safe(delivery::reply_text(*r.last)) << ")\n";
      }
    }
    out << "\n";
  }
  out << "-- " << (total + 1023) / 1024 << " Kbytes in " << messages.size()
      << (messages.size() == 1 ? " Request.\n" : " Requests.\n");
  return out.str();
}

std::string format_list_json(const std::vector<queue::MessageRecord>& messages) {
  JsonWriter j;
  j.begin_array();
  for (const auto& m : messages) message_json(j, m, false);
  j.end_array();
  return j.str() + "\n";
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
  if (e.body_type != BodyType::Unspecified) out << "Body:        " << body_name(e.body_type) << "\n";
  if (e.smtputf8) out << "SMTPUTF8:    yes\n";
  if (e.require_tls) out << "REQUIRETLS:  yes (validated TLS to a REQUIRETLS server only)\n";
  if (e.ret != DsnRet::Unspecified) out << "DSN RET:     " << ret_name(e.ret) << "\n";
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
    if (er.notify) out << "    NOTIFY=" << notify_text(er.notify) << "\n";
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
  out << "Headers:\n" << safe_lines(header_section(body));
  std::string s = out.str();
  if (!s.empty() && s.back() != '\n') s += "\n";
  return s;
}

std::string format_show_json(const queue::MessageRecord& m, std::string_view body) {
  JsonWriter j;
  message_json(j, m, true);
  std::string s = j.str();
  s.pop_back();  // reopen the object to append the headers
  JsonWriter h;
  h.value(header_section(body));
  return s + ",\"headers\":" + h.str() + "}\n";
}

}  // namespace ferry::cli
