// MessageJson: see MessageJson.hpp. The field names are an interface (scripts read `queue show
// --json`, applications read the HTTP API): new fields may be added, none renamed.
#include "mta/submit/MessageJson.hpp"

#include <ctime>

#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::submit {
namespace {

void attempt_json(JsonWriter& j, const Attempt& a) {
  j.begin_object();
  j.key("time").value(iso_time(a.time_ms));
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

}  // namespace

const char* dsn_ret_name(DsnRet r) {
  switch (r) {
    case DsnRet::Full:
      return "FULL";
    case DsnRet::Hdrs:
      return "HDRS";
    default:
      return "";
  }
}

const char* body_type_name(BodyType b) {
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

std::string notify_names(std::uint8_t n) {
  if (n == kNotifyUnspecified) return "";
  if (n & kNotifyNever) return "NEVER";
  std::string out;
  auto add = [&](const char* s) { out += out.empty() ? s : std::string(",") + s; };
  if (n & kNotifySuccess) add("SUCCESS");
  if (n & kNotifyFailure) add("FAILURE");
  if (n & kNotifyDelay) add("DELAY");
  return out;
}

std::string iso_time(TimeMs ms) {
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

void write_message_json(JsonWriter& j, const queue::MessageRecord& m, bool with_history) {
  const Envelope& e = m.envelope;
  j.begin_object();
  j.key("id").value(m.id.str());
  j.key("size").value(static_cast<std::uint64_t>(e.size));
  j.key("arrival").value(iso_time(e.arrival_ms));
  j.key("sender").value(e.reverse_path);
  if (with_history) {
    j.key("ret").value(dsn_ret_name(e.ret));
    j.key("envid").value(e.envid);
    j.key("body_type").value(body_type_name(e.body_type));
    j.key("smtputf8").value(e.smtputf8);
    j.key("require_tls").value(e.require_tls);  // RFC 8689 REQUIRETLS
    j.key("client").begin_object();
    j.key("address").value(e.client.address);
    j.key("helo").value(e.client.helo);
    j.key("auth_user").value(e.client.auth_user);
    j.key("protocol").value(e.client.protocol);
    j.end_object();
    j.key("delay_warning_sent").value(iso_time(m.delay_warning_sent_ms));
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
        .value(r.state == RecipientState::Pending ? iso_time(r.next_attempt_ms) : std::string("-"));
    if (with_history) {
      j.key("orcpt").value(er.orcpt);
      j.key("notify").value(notify_names(er.notify));
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

std::string message_show_json(const queue::MessageRecord& m, std::string_view body) {
  JsonWriter j;
  write_message_json(j, m, true);
  std::string s = j.str();
  s.pop_back();  // reopen the object to append the headers
  JsonWriter h;
  h.value(header_section(body));
  return s + ",\"headers\":" + h.str() + "}\n";
}

}  // namespace ferry::submit
