// MessageIdField: see MessageIdField.hpp.
#include "mta/inbound/MessageIdField.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::inbound {

namespace {

constexpr std::size_t kHeaderScan = 64 * 1024;
constexpr std::size_t kMaxId = 255;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// The value of the field starting at `pos` (after its colon), unfolded (RFC 5322 §2.2.3).
std::string unfolded_value(std::string_view head, std::size_t pos) {
  std::string value;
  while (pos < head.size()) {
    const std::size_t eol = head.find("\r\n", pos);
    const std::size_t end = eol == std::string_view::npos ? head.size() : eol;
    value.append(head.substr(pos, end - pos));
    if (eol == std::string_view::npos || eol + 2 >= head.size() || !is_wsp(head[eol + 2])) break;
    pos = eol + 2;
    if (value.size() > kMaxId * 4) break;  // a folded monster: it will be refused below anyway
  }
  return value;
}

std::string clean_id(std::string_view v) {
  while (!v.empty() && is_wsp(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_wsp(v.back())) v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > kMaxId) return {};
  for (char c : v)
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '"' || c == '\\') return {};
  return std::string(v);
}

}  // namespace

std::string message_id_field(std::string_view message) {
  std::string_view head = message.substr(0, kHeaderScan);
  if (const auto blank = head.find("\r\n\r\n"); blank != std::string_view::npos)
    head = head.substr(0, blank + 2);
  constexpr std::string_view kName = "message-id:";
  for (std::size_t pos = 0; pos < head.size();) {
    const std::size_t eol = head.find("\r\n", pos);
    const std::size_t end = eol == std::string_view::npos ? head.size() : eol;
    const std::string_view line = head.substr(pos, end - pos);
    if (line.size() >= kName.size() && text::iequals(line.substr(0, kName.size()), kName))
      return clean_id(unfolded_value(head, pos + kName.size()));
    if (eol == std::string_view::npos) break;
    pos = eol + 2;
  }
  return {};
}

}  // namespace ferry::inbound
