// OriginalMessage: header section views and field lookup (see OriginalMessage.hpp).
#include "mta/dsn/OriginalMessage.hpp"

#include "mta/dsn/Text.hpp"

namespace ferry::dsn {
namespace {

// End of the line starting at `pos` (index of its '\n' or text.size()) and the start of the next.
std::size_t next_line(std::string_view text, std::size_t pos, std::size_t& line_end) {
  const std::size_t nl = text.find('\n', pos);
  if (nl == std::string_view::npos) {
    line_end = text.size();
    return text.size();
  }
  line_end = (nl > pos && text[nl - 1] == '\r') ? nl - 1 : nl;
  return nl + 1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

OriginalMessage split_message(std::string_view message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t line_end = 0;
    const std::size_t next = next_line(message, pos, line_end);
    if (line_end == pos) return {message.substr(0, pos), message.substr(next)};  // the empty line
    pos = next;
  }
  return {message, {}};
}

std::size_t header_fields_prefix(std::string_view headers, std::uint64_t max) {
  if (headers.size() <= max) return headers.size();
  std::size_t keep = 0;  // end of the last complete field seen so far
  std::size_t pos = 0;
  while (pos < headers.size() && pos <= max) {
    // A line that does not start with WSP starts a new field: everything before it is whole.
    if (headers[pos] != ' ' && headers[pos] != '\t') keep = pos;
    std::size_t line_end = 0;
    pos = next_line(headers, pos, line_end);
  }
  return keep;
}

std::optional<std::string> header_value(std::string_view headers, std::string_view name) {
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t line_end = 0;
    std::size_t next = next_line(headers, pos, line_end);
    std::string_view line = headers.substr(pos, line_end - pos);
    const std::size_t colon = line.find(':');
    if (!line.empty() && line[0] != ' ' && line[0] != '\t' && colon != std::string_view::npos &&
        iequals(trim(line.substr(0, colon)), name)) {
      std::string value(line.substr(colon + 1));
      // Continuation lines start with WSP; unfolding just drops the line break.
      while (next < headers.size() && (headers[next] == ' ' || headers[next] == '\t')) {
        std::size_t cont_end = 0;
        const std::size_t after = next_line(headers, next, cont_end);
        value.append(headers.substr(next, cont_end - next));
        next = after;
      }
      return std::string(trim(value));
    }
    pos = next;
  }
  return std::nullopt;
}

std::string first_msg_id(std::string_view value) {
  const std::size_t open = value.find('<');
  if (open == std::string_view::npos) return {};
  const std::size_t close = value.find('>', open);
  if (close == std::string_view::npos) return {};
  std::string_view id = value.substr(open, close - open + 1);
  if (id.size() <= 2 || id.size() > 900) return {};
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return {};
  }
  return std::string(id);
}

}  // namespace ferry::dsn
