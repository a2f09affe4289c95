// DsnComposer: RFC 3464 / RFC 6522 / RFC 6533 report messages (see DsnComposer.hpp).
#include "mta/dsn/DsnComposer.hpp"

#include <algorithm>

#include "mta/dsn/Advice.hpp"
#include "mta/dsn/DateTime.hpp"
#include "mta/dsn/HeaderFold.hpp"
#include "mta/dsn/OriginalMessage.hpp"
#include "mta/dsn/OriginalRecipient.hpp"
#include "mta/dsn/Text.hpp"

namespace ferry::dsn {
namespace {

constexpr std::size_t kTextWidth = 76;   // human-readable part: wrap prose here
constexpr std::size_t kLabelWidth = 15;  // "What it means: "
constexpr std::size_t kMaxSubjectShown = 200;

// What the diagnostic of one recipient is and where it came from.
struct Diagnostic {
  std::string type;                      // "smtp" (a reply), "X-Ferry" (a local error), "" (none)
  std::string text;                      // Diagnostic-Code value after "type; ", one line
  std::string remote_mta;                // Remote-MTA name; empty when no remote MTA replied
  std::string host_shown;                // "mx.example.net [192.0.2.1]" for the text part
  std::vector<std::string> reply_lines;  // the reply as the remote sent it, for the text part
  TimeMs last_attempt_ms = 0;            // 0 → no Last-Attempt-Date (RFC 3464 §2.3.7 MUST NOT)
};

struct Row {
  const EnvelopeRecipient* rcpt = nullptr;
  std::uint32_t index = 0;
  Action action = Action::Failed;
  std::string status;
  Diagnostic diag;
  const RecipientReport* report = nullptr;  // for the category fields
};

enum class Returned { Headers, HeadersTruncated, Full, Truncated };

std::string strip_trailing_dot(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return std::string(host);
}

// Message-ID left part and MIME boundary material: [A-Za-z0-9-_] only (atext ∩ bchars).
std::string token_chars(std::string_view in, std::string_view fallback) {
  std::string out;
  for (char c : in) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.size() > 64) out.resize(64);
  return out.empty() ? std::string(fallback) : out;
}

// A host name usable after '@' in Message-ID and From: letters, digits, '-', '.'.
std::string host_chars(std::string_view in) {
  std::string out;
  for (char c : in) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (ok) out += c;
  }
  while (!out.empty() && (out.front() == '.')) out.erase(0, 1);
  while (!out.empty() && (out.back() == '.')) out.pop_back();
  return out.empty() ? std::string("localhost") : out;
}

// RFC 5321 §6.1 (and §C): a source route "@a,@b:user@c" is stripped to its final hop.
std::string strip_source_route(std::string_view path) {
  if (!path.empty() && path.front() == '@') {
    const std::size_t colon = path.find(':');
    if (colon != std::string_view::npos) path.remove_prefix(colon + 1);
  }
  return std::string(path);
}

// RFC 6533 §3: an address with non-ASCII characters has the "utf-8" address type.
std::string typed_address(std::string_view address, bool utf8) {
  return std::string(has_non_ascii(address) ? "utf-8; " : "rfc822; ") + one_line(address, utf8);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = nl + 1;
  }
  while (lines.size() > 1 && lines.back().empty()) lines.pop_back();
  return lines;
}

Diagnostic diagnose(const RecipientReport& r, bool utf8) {
  Diagnostic d;
  const Attempt* a = &r.attempt;
  if (a->outcome == AttemptOutcome::Expired && r.last_transient) a = &*r.last_transient;
  if (a->outcome != AttemptOutcome::Expired && a->time_ms > 0) d.last_attempt_ms = a->time_ms;

  const std::string host = strip_trailing_dot(one_line(a->host, false));
  const std::string ip = one_line(a->ip, false);
  if (!host.empty() && !ip.empty() && host != ip && host.front() != '[')
    d.host_shown = host + " [" + ip + "]";
  else if (!host.empty())
    d.host_shown = host;
  else if (!ip.empty())
    d.host_shown = "[" + ip + "]";

  if (a->code != 0) {
    // RFC 3464 §2.3.6: the remote's reply code and text as it came; an enhanced code the reply
    // parser took off the text goes back in front of it. A status we derived ourselves (x.0.0
    // for a reply without one) is not the remote's: it stays in Status: only. Continuation lines
    // are joined with spaces.
    d.type = "smtp";
    const std::string code = std::to_string(a->code);
    const std::string status =
        valid_status(a->status) && !a->status_derived ? a->status + " " : std::string();
    const std::vector<std::string> lines = split_lines(a->reply);
    d.text = code + " " + status;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string clean = one_line(lines[i], utf8);
      if (i > 0) d.text += ' ';
      d.text += clean;
      d.reply_lines.push_back(code + (i + 1 < lines.size() ? "-" : " ") + status + clean);
    }
    while (!d.text.empty() && d.text.back() == ' ') d.text.pop_back();
    while (!d.reply_lines.back().empty() && d.reply_lines.back().back() == ' ')
      d.reply_lines.back().pop_back();
    // RFC 3464 §2.3.5: Remote-MTA names the MTA that gave this diagnostic.
    if (!host.empty())
      d.remote_mta = host;
    else if (!ip.empty())
      d.remote_mta = "[" + ip + "]";
  } else if (!a->reply.empty()) {
    // A local or network error: no remote MTA gave it, so no Remote-MTA and no "smtp" type
    // (RFC 3464 §2.3.6 allows other diagnostic types; X- marks ours, §2.4 spirit).
    d.type = "X-Ferry";
    std::string text;
    for (const std::string& line : split_lines(a->reply)) {
      if (!text.empty()) text += ' ';
      text += one_line(line, utf8);
    }
    d.text = text;
    d.reply_lines.push_back(text);
  }
  return d;
}

// Greedy word wrap of `text` into lines of at most kTextWidth, the first prefixed by `first`
// and the others by `rest` (both the same width). Words longer than a line stay whole.
void wrap(std::string& out, std::string_view first, std::string_view rest, std::string_view text) {
  std::string line(first);
  bool empty = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    pos = end;
    if (!empty && line.size() + 1 + word.size() > kTextWidth) {
      out += line + "\r\n";
      line = rest;
      empty = true;
    }
    if (!empty) line += ' ';
    line.append(word);
    empty = false;
  }
  out += line + "\r\n";
}

std::string label(std::string_view name) {
  std::string l = "  " + std::string(name);
  if (l.size() < 2 + kLabelWidth) l.resize(2 + kLabelWidth, ' ');
  return l;
}

std::string count_phrase(std::size_t n) {
  return n == 1 ? "the recipient listed below" : "the " + std::to_string(n) + " recipients listed below";
}

std::string subject_for(ReportKind kind, bool double_bounce) {
  if (double_bounce) return "Postmaster Copy: Undelivered Mail";
  switch (kind) {
    case ReportKind::Failure:
      return "Undelivered Mail Returned to Sender";
    case ReportKind::Delay:
      return "Delayed Mail (still being retried)";
    case ReportKind::Success:
      return "Successful Mail Delivery Report";
  }
  return "Mail Delivery Report";
}

// What of the original goes back (RFC 3461 §4.3), capped at `max` octets: the whole message;
// or its header section and as many complete body lines as fit; or, when the header section
// alone is over the cap (an all-header message), as many complete header fields as fit.
struct ReturnedPart {
  Returned kind = Returned::Headers;
  std::string content;
  std::size_t size = 0;  // octets of the original returned, for the text part
};

ReturnedPart returned_part(std::string_view original, std::string_view header_section, bool want_full,
                           std::uint64_t max) {
  ReturnedPart out;
  if (want_full) {
    std::string whole = normalize_crlf(original);
    const OriginalMessage parts = split_message(whole);
    if (whole.size() <= max) {
      out.kind = Returned::Full;
      out.content = std::move(whole);
      out.size = out.content.size();
      return out;
    }
    const std::size_t head = parts.header_section.size() + 2;
    if (head <= max) {
      // Header section whole, then as many complete body lines as fit under the cap.
      const std::size_t room = static_cast<std::size_t>(max - head);
      std::size_t keep = 0;
      if (room >= 2) {
        const std::size_t crlf = parts.body.rfind("\r\n", room - 2);
        if (crlf != std::string_view::npos) keep = crlf + 2;
      }
      out.kind = Returned::Truncated;
      out.content = std::string(parts.header_section) + "\r\n" + std::string(parts.body.substr(0, keep));
      out.size = out.content.size();
      return out;
    }
  }
  std::string headers = normalize_crlf(header_section);
  const std::size_t keep = header_fields_prefix(headers, max);
  if (keep < headers.size()) {
    out.kind = Returned::HeadersTruncated;
    headers.resize(keep);
  }
  out.content = std::move(headers);
  out.size = out.content.size();
  return out;
}

// The paragraph of the text part that says what of the original is attached.
void returned_paragraph(std::string& t, Returned returned, std::size_t returned_size,
                        bool binary_headers_only, bool double_bounce) {
  const std::string whose = double_bounce ? "The failed message" : "Your message";
  const std::string whose_lc = double_bounce ? "the failed message" : "your message";
  switch (returned) {
    case Returned::Headers:
      wrap(t, "", "",
           binary_headers_only ? "The header section of " + whose_lc +
                                     " is attached below (a binary message is never returned whole)."
                               : "The header section of " + whose_lc + " is attached below.");
      break;
    case Returned::HeadersTruncated:
      // The cap holds for headers too: an all-header message must not make a report as big.
      wrap(t, "", "",
           "The header section of " + whose_lc + " is too long to return whole: only its first " +
               std::to_string(returned_size) + " octets (complete header fields) are attached below.");
      break;
    case Returned::Full:
      wrap(t, "", "", whose + " is attached below.");
      break;
    case Returned::Truncated:
      wrap(t, "", "",
           whose + " is attached below, shortened to its first " + std::to_string(returned_size) +
               " octets (its header section is complete).");
      break;
  }
}

// The opening paragraph: what happened to the message, by report kind.
void opening_paragraph(std::string& t, const DsnInput& in, std::size_t count, bool double_bounce) {
  switch (in.kind) {
    case ReportKind::Failure:
      if (double_bounce) {
        wrap(t, "", "",
             "A message sent with an empty return path (usually itself a delivery report) could not "
             "be delivered. Such messages are never returned to their sender, so this copy goes to "
             "the postmaster.");
      } else {
        wrap(t, "", "",
             "Your message could not be delivered to " + count_phrase(count) +
                 ". Delivery has been given up and will not be retried.");
      }
      break;
    case ReportKind::Delay:
      wrap(t, "", "",
           "Your message has not yet been delivered to " + count_phrase(count) +
               ". This is only a warning: delivery is still being retried, and you do not need to "
               "send the message again.");
      if (in.retry_until_ms > 0) {
        t += "\r\n";
        wrap(t, "", "",
             "If it still cannot be delivered by " + rfc5322_date(in.retry_until_ms, in.utc_offset_minutes) +
                 ", delivery will be given up.");
      }
      break;
    case ReportKind::Success:
      wrap(t, "", "",
           "As you asked, this is the delivery report for your message to " + count_phrase(count) + ".");
      break;
  }
}

// One recipient's paragraph: the reply or local error, when, and for a failure what it means.
void recipient_paragraph(std::string& t, const DsnInput& in, const Row& row, bool utf8) {
  t += "\r\n<" + one_line(row.rcpt->address, utf8) + ">: " + to_string(row.action) + " (" + row.status +
       ")\r\n";
  const Diagnostic& d = row.diag;
  const bool success = row.action == Action::Delivered || row.action == Action::Relayed;
  const std::string indent(2 + kLabelWidth, ' ');
  if (d.type == "smtp") {
    if (!d.host_shown.empty())
      t += label(success ? "Accepted by:" : "Remote server:") + d.host_shown + "\r\n";
    for (std::size_t i = 0; i < d.reply_lines.size(); ++i)
      t += (i == 0 ? label("It replied:") : indent) + d.reply_lines[i] + "\r\n";
  } else if (d.type == "X-Ferry") {
    if (!d.host_shown.empty()) t += label("Server tried:") + d.host_shown + "\r\n";
    wrap(t, label("Problem:"), indent, d.text);
  }
  if (d.last_attempt_ms > 0) {
    t += label(success ? "Accepted at:" : "Last tried:");
    t += rfc5322_date(d.last_attempt_ms, in.utc_offset_minutes) + "\r\n";
  }
  if (row.action == Action::Relayed) {
    wrap(t, label("Note:"), indent,
         "The next mail server does not send delivery reports, so you will hear nothing more about "
         "this recipient.");
  }
  if (!success) {
    const Advice advice = advice_for(row.status);
    wrap(t, label("What it means:"), indent, advice.meaning);
    wrap(t, label("What to do:"), indent, advice.what_to_do);
    // The reply's classification: the same identifier as in logs, `ferry queue show`
    // and metrics, so a bounce can be matched to them; the advice is the operator's.
    const RecipientReport& rep = *row.report;
    if (!rep.category.empty()) {
      std::string c = one_line(rep.category, false);
      if (!rep.category_detail.empty()) c += " (" + one_line(rep.category_detail, false) + ")";
      t += label("Category:") + c + "\r\n";
      if (!rep.category_advice.empty())
        wrap(t, label("Advice:"), indent, one_line(rep.category_advice, false));
    }
  }
}

// Part 1: the human-readable explanation (RFC 6522 §3: first part of a multipart/report).
std::string human_text(const DsnInput& in, const std::vector<Row>& rows, bool double_bounce,
                       std::string_view host, std::string_view msg_id, std::string_view subject,
                       Returned returned, std::size_t returned_size, bool binary_headers_only, bool utf8) {
  const Envelope& env = *in.envelope;
  std::string t;
  t += "This is the mail delivery system at " + std::string(host) + ".\r\n\r\n";
  opening_paragraph(t, in, rows.size(), double_bounce);
  t += "\r\n";
  t += double_bounce ? "The message:\r\n" : "Your message:\r\n";
  if (!in.original_queue_id.empty()) t += label("Queue ID:") + one_line(in.original_queue_id, false) + "\r\n";
  if (!msg_id.empty()) t += label("Message-ID:") + std::string(msg_id) + "\r\n";
  if (!subject.empty()) t += label("Subject:") + std::string(subject) + "\r\n";
  if (double_bounce) t += label("Return path:") + "<>\r\n";
  if (env.arrival_ms > 0)
    t += label("Accepted:") + rfc5322_date(env.arrival_ms, in.utc_offset_minutes) + "\r\n";

  for (const Row& row : rows) recipient_paragraph(t, in, row, utf8);
  t += "\r\n";
  returned_paragraph(t, returned, returned_size, binary_headers_only, double_bounce);
  return t;
}

// Part 2: the machine-readable report (RFC 3464 §2.1–§2.4).
std::string delivery_status(const DsnInput& in, const std::vector<Row>& rows, std::string_view host,
                            bool utf8) {
  const Envelope& env = *in.envelope;
  std::string s;
  auto field = [&s](std::string_view name, std::string_view value) {
    s += fold_field(std::string(name) + ": " + std::string(value));
    s += "\r\n";
  };
  // Per-message fields, in RFC 3464 §2.2's order.
  if (!env.envid.empty()) field("Original-Envelope-Id", one_line(env.envid, utf8));  // §2.2.1
  field("Reporting-MTA", "dns; " + std::string(host));                               // §2.2.2
  if (!env.client.helo.empty()) {                                                    // §2.2.4
    std::string from = "dns; " + one_line(env.client.helo, utf8);
    if (!env.client.address.empty()) from += " (" + one_line(env.client.address, false) + ")";
    field("Received-From-MTA", from);
  }
  if (env.arrival_ms > 0)
    field("Arrival-Date", rfc5322_date(env.arrival_ms, in.utc_offset_minutes));  // §2.2.5
  if (!in.original_queue_id.empty())
    field("X-Ferry-Queue-ID", one_line(in.original_queue_id, false));  // §2.4

  for (const Row& row : rows) {
    s += "\r\n";                     // §2.1: groups are separated by a blank line
    if (!row.rcpt->orcpt.empty()) {  // §2.3.1, RFC 3461 §4.2
      const OriginalRecipient o = parse_orcpt(row.rcpt->orcpt);
      field("Original-Recipient", one_line(o.type, false) + "; " + one_line(o.address, utf8));
    }
    field("Final-Recipient", typed_address(row.rcpt->address, utf8));  // §2.3.2: as accepted
    field("Action", to_string(row.action));                            // §2.3.3
    field("Status", row.status);                                       // §2.3.4
    if (!row.diag.remote_mta.empty()) field("Remote-MTA", "dns; " + row.diag.remote_mta);        // §2.3.5
    if (!row.diag.type.empty()) field("Diagnostic-Code", row.diag.type + "; " + row.diag.text);  // §2.3.6
    if (row.diag.last_attempt_ms > 0)                                                            // §2.3.7
      field("Last-Attempt-Date", rfc5322_date(row.diag.last_attempt_ms, in.utc_offset_minutes));
    if (row.action == Action::Delayed && in.retry_until_ms > 0)  // §2.3.9: delayed only
      field("Will-Retry-Until", rfc5322_date(in.retry_until_ms, in.utc_offset_minutes));
    if (!row.report->category.empty() && row.action != Action::Delivered && row.action != Action::Relayed)
      field("X-Ferry-Category", one_line(row.report->category, false));  // §2.4 extension field
  }
  return s;
}

struct Part {
  std::string description;
  std::string content_type;
  std::string content;
};

// Who gets the report: the sender; never for "<>" (RFC 5321 §6.1 MUST NOT), except the
// postmaster copy. Nobody when a failed postmaster copy would be reported (no loop).
struct Addressee {
  std::string to;
  bool double_bounce = false;
};

std::optional<Addressee> addressee(const DsnInput& in) {
  const Envelope& env = *in.envelope;
  if (!env.is_bounce()) return Addressee{strip_source_route(env.reverse_path), false};
  if (in.kind != ReportKind::Failure || in.postmaster_address.empty()) return std::nullopt;
  for (const RecipientReport& r : in.recipients)
    if (r.index < env.recipients.size() && iequals(env.recipients[r.index].address, in.postmaster_address))
      return std::nullopt;
  return Addressee{in.postmaster_address, true};
}

// Which recipients: NOTIFY (RFC 3461 §4.1), each reported once; `seen` gets their indexes.
std::vector<const RecipientReport*> chosen_recipients(const DsnInput& in, bool double_bounce,
                                                      std::vector<std::uint32_t>& seen) {
  const Envelope& env = *in.envelope;
  std::vector<const RecipientReport*> chosen;
  for (const RecipientReport& r : in.recipients) {
    if (r.index >= env.recipients.size()) continue;
    if (std::find(seen.begin(), seen.end(), r.index) != seen.end()) continue;
    if (!double_bounce && !wants(env.recipients[r.index], in.kind, in.delay_by_default)) continue;
    seen.push_back(r.index);
    chosen.push_back(&r);
  }
  return chosen;
}

// RFC 6533: a report about internationalized mail is a global DSN.
bool is_global(const Envelope& env, std::string_view to, const OriginalMessage& original,
               const std::vector<const RecipientReport*>& chosen) {
  bool utf8 =
      env.smtputf8 || has_non_ascii(to) || has_non_ascii(original.header_section) || has_non_ascii(env.envid);
  for (const RecipientReport* r : chosen) {
    const EnvelopeRecipient& rc = env.recipients[r->index];
    if (has_non_ascii(rc.address) || has_non_ascii(parse_orcpt(rc.orcpt).address)) utf8 = true;
  }
  return utf8;
}

std::vector<Row> report_rows(const DsnInput& in, const std::vector<const RecipientReport*>& chosen,
                             bool utf8) {
  std::vector<Row> rows;
  for (const RecipientReport* r : chosen) {
    Row row;
    row.rcpt = &in.envelope->recipients[r->index];
    row.index = r->index;
    switch (in.kind) {
      case ReportKind::Failure:
        row.action = Action::Failed;
        break;
      case ReportKind::Delay:
        row.action = Action::Delayed;
        break;
      case ReportKind::Success:
        row.action = r->relayed ? Action::Relayed : Action::Delivered;
        break;
    }
    row.status = status_for(row.action, r->attempt);
    row.diag = diagnose(*r, utf8);
    row.report = r;
    rows.push_back(std::move(row));
  }
  return rows;
}

// The original's Subject for the human, on one line and cut (on a UTF-8 boundary) when long.
std::string shown_subject(std::string_view header_section, bool utf8) {
  std::string subject;
  if (auto v = header_value(header_section, "Subject")) {
    subject = one_line(*v, utf8);
    if (subject.size() > kMaxSubjectShown) {
      std::size_t cut = kMaxSubjectShown;
      while (cut > 0 && (static_cast<unsigned char>(subject[cut]) & 0xC0) == 0x80) --cut;
      subject.resize(cut);
      subject += "...";
    }
  }
  return subject;
}

// The third part: what of the original goes back, typed by whether it is whole or headers only.
Part returned_mime_part(Returned returned, std::string content, bool success, bool utf8) {
  if (returned == Returned::Headers || returned == Returned::HeadersTruncated)
    return {std::string(success ? "Delivered message headers" : "Undelivered message headers") +
                (returned == Returned::HeadersTruncated ? " (truncated)" : ""),
            utf8 ? "message/global-headers" : "text/rfc822-headers", std::move(content)};
  return {success ? "Delivered message" : "Undelivered message", utf8 ? "message/global" : "message/rfc822",
          std::move(content)};
}

// The boundary must not occur in any part (RFC 2046 §5.1.1); the token makes that near certain,
// the check makes it certain.
std::string pick_boundary(const std::vector<Part>& parts, std::string_view token) {
  std::string boundary = "=_ferry_" + std::string(token);
  for (int n = 1;; ++n) {
    bool clash = false;
    for (const Part& p : parts) clash = clash || p.content.find("--" + boundary) != std::string::npos;
    if (!clash) return boundary;
    boundary = "=_ferry_" + std::string(token) + "_" + std::to_string(n);
  }
}

// What the header section needs beyond the parts themselves.
struct HeaderInput {
  std::string_view host, to, token, thread_id, boundary;
  bool double_bounce = false, utf8 = false, eight_bit = false;
};

// The header section (RFC 5322 §3.6; RFC 3834 §5 Auto-Submitted; RFC 6522 §3).
std::string report_header(const DsnInput& in, const HeaderInput& hi) {
  std::string h;
  auto field = [&h](std::string_view name, std::string_view value) {
    h += fold_field(std::string(name) + ": " + std::string(value));
    h += "\r\n";
  };
  const std::string host(hi.host);
  field("From", "Mail Delivery System <MAILER-DAEMON@" + host + ">");
  field("To", "<" + one_line(hi.to, hi.utf8) + ">");
  field("Subject", subject_for(in.kind, hi.double_bounce));
  field("Date", rfc5322_date(in.now_ms, in.utc_offset_minutes));
  field("Message-ID", "<" + std::string(hi.token) + "@" + host + ">");
  if (!hi.thread_id.empty()) {  // RFC 5322 §3.6.4
    field("In-Reply-To", hi.thread_id);
    field("References", hi.thread_id);
  }
  field("Auto-Submitted", "auto-replied");
  field("MIME-Version", "1.0");
  field("Content-Type", std::string("multipart/report; report-type=") +
                            (hi.utf8 ? "global-delivery-status" : "delivery-status") + "; boundary=\"" +
                            std::string(hi.boundary) + "\"");
  if (hi.eight_bit) field("Content-Transfer-Encoding", "8bit");
  return h;
}

// Header section, preamble, the parts each under the boundary, and the closing delimiter.
std::string mime_body(std::string header, std::string_view boundary, const std::vector<Part>& parts) {
  std::string b = std::move(header);
  const std::string delimiter = "\r\n--" + std::string(boundary);
  b += "\r\n";
  b += "This is a MIME-encapsulated message.\r\n";  // preamble for readers without MIME
  for (const Part& p : parts) {
    b += delimiter + "\r\n";
    b += "Content-Description: " + p.description + "\r\n";
    b += "Content-Type: " + p.content_type + "\r\n";
    b += std::string("Content-Transfer-Encoding: ") + (has_non_ascii(p.content) ? "8bit" : "7bit") + "\r\n";
    b += "\r\n";
    b += p.content;
  }
  b += delimiter + "--\r\n";
  return b;
}

}  // namespace

std::optional<DsnMessage> compose(const DsnInput& in) {
  if (in.envelope == nullptr) return std::nullopt;
  const Envelope& env = *in.envelope;
  const std::optional<Addressee> who = addressee(in);
  if (!who) return std::nullopt;
  const std::string& to = who->to;
  const bool double_bounce = who->double_bounce;

  std::vector<std::uint32_t> seen;
  const std::vector<const RecipientReport*> chosen = chosen_recipients(in, double_bounce, seen);
  if (chosen.empty()) return std::nullopt;

  const OriginalMessage original = split_message(in.original);
  const bool utf8 = is_global(env, to, original, chosen);
  const std::string host = host_chars(in.reporting_mta);
  const std::string token = token_chars(in.unique, "dsn");
  const std::vector<Row> rows = report_rows(in, chosen, utf8);

  // The original: Message-ID for threading, Subject for the human, and what is returned.
  std::string msg_id;  // shown in the text part
  if (auto v = header_value(original.header_section, "Message-ID")) msg_id = first_msg_id(one_line(*v, utf8));
  // In-Reply-To/References only when they cannot be what makes our header section need SMTPUTF8.
  const std::string thread_id = has_non_ascii(msg_id) && !has_non_ascii(to) ? std::string() : msg_id;
  const std::string subject = shown_subject(original.header_section, utf8);

  // RFC 3461 §4.3 RET: headers unless FULL was asked for (the postmaster copy returns the failed
  // report whole). A BINARYMIME original (RFC 3030) cannot be carried in a text MIME part.
  const bool binary = env.body_type == BodyType::BinaryMime;
  // RFC 8689 §5: a REQUIRETLS message's content must not travel where TLS is not assured: its
  // reports return the header section only, whatever RET asked (so the report itself can go
  // without REQUIRETLS and reach the sender).
  const bool asked_full = (env.ret == DsnRet::Full || double_bounce) && !env.require_tls;
  ReturnedPart ret =
      returned_part(in.original, original.header_section, asked_full && !binary, in.max_return_size);

  std::vector<Part> parts;
  parts.push_back({"Notification", "text/plain; charset=utf-8",
                   limit_line_length(human_text(in, rows, double_bounce, host, msg_id, subject, ret.kind,
                                                ret.size, asked_full && binary, utf8))});
  parts.push_back({"Delivery report", utf8 ? "message/global-delivery-status" : "message/delivery-status",
                   limit_line_length(delivery_status(in, rows, host, utf8))});
  const bool success = in.kind == ReportKind::Success;
  parts.push_back(returned_mime_part(ret.kind, limit_line_length(ret.content), success, utf8));

  const std::string boundary = pick_boundary(parts, token);
  bool eight_bit = false;
  for (const Part& p : parts) eight_bit = eight_bit || has_non_ascii(p.content);
  std::string h = report_header(in, {host, to, token, thread_id, boundary, double_bounce, utf8, eight_bit});

  DsnMessage out;
  out.reverse_path = "";
  out.recipient = to;
  out.double_bounce = double_bounce;
  out.reported = seen;
  out.message_id = token + "@" + host;  // the report's own Message-ID, without angle brackets
  // SMTPUTF8 only when our own envelope or header section needs it; UTF-8 inside the MIME parts
  // travels with 8BITMIME (RFC 6533 §6: global parts are 8bit content).
  out.smtputf8 = has_non_ascii(to) || has_non_ascii(h);
  out.body_type = eight_bit ? BodyType::EightBitMime : BodyType::SevenBit;
  out.body = mime_body(std::move(h), boundary, parts);
  return out;
}

Envelope bounce_envelope(const DsnMessage& dsn, TimeMs now_ms) {
  Envelope e;
  e.reverse_path = "";
  EnvelopeRecipient r;
  r.address = dsn.recipient;
  r.notify = kNotifyNever;
  e.recipients.push_back(std::move(r));
  e.body_type = dsn.body_type;
  e.smtputf8 = dsn.smtputf8;
  e.client.protocol = "local";
  e.arrival_ms = now_ms;
  e.size = dsn.body.size();
  e.message_id = dsn.message_id;
  return e;
}

}  // namespace ferry::dsn
