#include "mta/smtp/ReplyText.hpp"

#include <charconv>
#include <vector>

namespace ferry::smtp {

namespace {

EnhancedStatus parse_status(std::string_view s) {
  EnhancedStatus st;
  unsigned parts[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), parts[k]);
    if (ec != std::errc{}) return {};
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    if (k < 2) {
      if (s.empty() || s[0] != '.') return {};
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return {};
  st.klass = static_cast<std::uint8_t>(parts[0]);
  st.subject = static_cast<std::uint16_t>(parts[1]);
  st.detail = static_cast<std::uint16_t>(parts[2]);
  return st;
}

}  // namespace

Reply make_reply(int code, std::string_view status, std::string_view text) {
  Reply r;
  r.code = code;
  r.status = parse_status(status);
  r.text = std::string(text);
  return r;
}

std::string format_reply(const Reply& reply) {
  // RFC 5321 §4.5.3.1.5: 512 octets per reply line including CRLF.
  constexpr std::size_t kMaxLine = 510;
  const std::string code = std::to_string(reply.code);
  const std::string status = reply.status.present() ? reply.status.str() + " " : std::string();
  const std::size_t room = kMaxLine - code.size() - 1 - status.size();

  // Split into lines, then cut over-long ones.
  std::string out;
  std::string_view text = reply.text;
  std::vector<std::string_view> lines;
  while (true) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    while (line.size() > room) {
      lines.push_back(line.substr(0, room));
      line.remove_prefix(room);
    }
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += code;
    out += (i + 1 < lines.size()) ? '-' : ' ';
    out += status;
    out += lines[i];
    out += "\r\n";
  }
  return out;
}

std::string format_reply(int code, std::string_view status, std::string_view text) {
  return format_reply(make_reply(code, status, text));
}

}  // namespace ferry::smtp
