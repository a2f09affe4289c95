// LocalMessage: see LocalMessage.hpp. Header fields are matched case-insensitively (RFC 5322
// §1.2.2); folded continuation lines (§2.2.3) stay with their field.
#include "mta/cli/LocalMessage.hpp"
#include "ferry/text/Ascii.hpp"

#include <algorithm>
#include <cctype>

namespace ferry::cli {
namespace {

using text::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Splits the input into lines (LF or CRLF ends; a lone trailing line without one counts).
// Stops at a lone "." when `dot_ends` (sendmail(8) without -i).
std::vector<std::string_view> split_lines(std::string_view in, bool dot_ends) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t nl = in.find('\n', pos);
    std::string_view line = nl == std::string_view::npos ? in.substr(pos) : in.substr(pos, nl - pos);
    pos = nl == std::string_view::npos ? in.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (dot_ends && line == ".") break;
    lines.push_back(line);
  }
  return lines;
}

// A header field's name, or "" when the line cannot start a field (RFC 5322 §3.6.8 ftext).
std::string_view field_name(std::string_view line) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  for (std::size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) return {};
  }
  return line.substr(0, colon);
}

struct Field {
  std::string_view name;
  std::vector<std::string_view> lines;  // first line + continuation lines
  std::string value() const {
    std::string v(lines.front().substr(name.size() + 1));
    for (std::size_t i = 1; i < lines.size(); ++i) {
      v += ' ';
      v += lines[i];
    }
    return v;
  }
};

}  // namespace

std::vector<std::string> parse_address_list(std::string_view value) {
  std::vector<std::string> out;
  std::string item;   // the current address without comments
  std::string angle;  // text inside <...>
  bool in_angle = false, had_angle = false, in_quote = false;
  int comment = 0;
  auto finish = [&] {
    std::string addr = had_angle ? angle : std::string(trim(item));
    // Drop an obsolete source route (RFC 5322 §4.4 obs-angle-addr: "@a,@b:user@c").
    if (!addr.empty() && addr.front() == '@') {
      auto colon = addr.find(':');
      addr = colon == std::string::npos ? std::string() : addr.substr(colon + 1);
    }
    addr = std::string(trim(addr));
    if (!addr.empty()) out.push_back(addr);
    item.clear();
    angle.clear();
    had_angle = in_angle = false;
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (comment > 0) {
      if (c == '\\' && i + 1 < value.size())
        ++i;
      else if (c == '(')
        ++comment;
      else if (c == ')')
        --comment;
      continue;
    }
    if (in_quote) {
      if (c == '\\' && i + 1 < value.size()) {
        (in_angle ? angle : item) += value[++i];
      } else if (c == '"') {
        in_quote = false;
      } else {
        (in_angle ? angle : item) += c;
      }
      continue;
    }
    if (c == '"') {
      in_quote = true;
    } else if (c == '(') {
      comment = 1;
    } else if (in_angle) {
      if (c == '>')
        in_angle = false;
      else if (c != ' ' && c != '\t')
        angle += c;
    } else if (c == '<') {
      in_angle = had_angle = true;
      angle.clear();
    } else if (c == ',' || c == ';') {
      finish();
    } else if (c == ':') {
      item.clear();  // "group name:" starts a group; its name is no address
    } else {
      item += c;
    }
  }
  finish();
  return out;
}

std::string format_from(std::string_view full_name, std::string_view address) {
  if (full_name.empty()) return std::string(address);
  // RFC 5322 §3.2.3: specials in a display name need a quoted-string.
  bool needs_quote = false;
  for (char c : full_name)
    if (std::string_view("()<>[]:;@\\,.\"").find(c) != std::string_view::npos) needs_quote = true;
  std::string name;
  if (needs_quote) {
    name = "\"";
    for (char c : full_name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += '"';
  } else {
    name = std::string(full_name);
  }
  return name + " <" + std::string(address) + ">";
}

LocalMessage prepare_local_message(std::string_view input, const LocalMessageOptions& options) {
  auto lines = split_lines(input, options.dot_ends_message);
  std::size_t first = 0;
  // An mbox "From " separator line is not a header field (sendmail drops it too).
  if (!lines.empty() && lines[0].starts_with("From ")) first = 1;

  std::vector<Field> fields;
  std::size_t i = first;
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().lines.push_back(line);
      continue;
    }
    std::string_view name = field_name(line);
    if (name.empty()) break;  // not a header: the rest is body (an empty line is added below)
    fields.push_back(Field{name, {line}});
  }
  const bool blank_separator = i < lines.size() && lines[i].empty();
  const std::size_t body_start = blank_separator ? i + 1 : i;

  LocalMessage result;
  bool has_from = false, has_date = false, has_id = false;
  auto add_recipients = [&](const Field& f) {
    for (auto& a : parse_address_list(f.value()))
      if (std::find(result.recipients.begin(), result.recipients.end(), a) == result.recipients.end())
        result.recipients.push_back(a);
  };
  std::string header;
  for (const auto& f : fields) {
    if (iequals(f.name, "From")) has_from = true;
    if (iequals(f.name, "Date")) has_date = true;
    if (iequals(f.name, "Message-ID")) has_id = true;
    const bool bcc = iequals(f.name, "Bcc");
    if (options.recipients_from_headers && (iequals(f.name, "To") || iequals(f.name, "Cc") || bcc))
      add_recipients(f);
    if (bcc) continue;  // RFC 5322 §3.6.3: Bcc recipients are not shown to the others
    for (auto l : f.lines) {
      header.append(l);
      header += "\r\n";
    }
  }
  // RFC 5322 §3.6: Date and From are required; Message-ID should be present.
  std::string added;
  if (!has_from && !options.from.empty()) {
    added += "From: " + options.from + "\r\n";
    result.added_from = true;
  }
  if (!has_date && !options.date.empty()) {
    added += "Date: " + options.date + "\r\n";
    result.added_date = true;
  }
  if (!has_id && !options.message_id.empty()) {
    added += "Message-ID: " + options.message_id + "\r\n";
    result.added_message_id = true;
  }
  result.message = header + added + "\r\n";
  for (std::size_t j = body_start; j < lines.size(); ++j) {
    result.message.append(lines[j]);
    result.message += "\r\n";
  }
  return result;
}

}  // namespace ferry::cli
