// ReplyParser: line splitting, code checks and multi-line assembly of server replies.
#include "mta/smtp/ReplyParser.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

std::size_t parse_enhanced_status(std::string_view text, EnhancedStatus& out) {
  std::size_t pos = 0;
  auto number = [&](int max_digits, unsigned& value) {
    const std::size_t start = pos;
    value = 0;
    while (pos < text.size() && is_digit(text[pos]) && static_cast<int>(pos - start) < max_digits) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    return pos > start && !(pos < text.size() && is_digit(text[pos]));
  };
  unsigned klass = 0, subject = 0, detail = 0;
  if (!number(1, klass) || (klass != 2 && klass != 4 && klass != 5)) return 0;
  if (pos >= text.size() || text[pos] != '.') return 0;
  ++pos;
  if (!number(3, subject)) return 0;
  if (pos >= text.size() || text[pos] != '.') return 0;
  ++pos;
  if (!number(3, detail)) return 0;
  if (pos < text.size() && text[pos] != ' ') return 0;
  if (pos < text.size()) ++pos;
  out.klass = static_cast<std::uint8_t>(klass);
  out.subject = static_cast<std::uint16_t>(subject);
  out.detail = static_cast<std::uint16_t>(detail);
  return pos;
}

ReplyParser::ReplyParser(ReplyParserLimits limits) : limits_(limits) {}

void ReplyParser::feed(std::string_view bytes) {
  // Compact lazily: only when the consumed prefix dominates the buffer.
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

void ReplyParser::reset() {
  buffer_.clear();
  consumed_ = 0;
  code_ = 0;
  reply_bytes_ = 0;
  text_.clear();
  failed_ = false;
}

Error ReplyParser::fail(std::string message) {
  failed_ = true;
  return make_error(ErrorKind::Invalid, std::move(message));
}

Result<std::optional<Reply>> ReplyParser::next() {
  if (failed_) return make_error(ErrorKind::Invalid, "reply parser already failed");
  for (;;) {
    const std::size_t nl = buffer_.find('\n', consumed_);
    if (nl == std::string::npos) {
      if (buffer_.size() - consumed_ > limits_.max_line) return fail("reply line too long");
      return std::optional<Reply>{};
    }
    std::string_view line(buffer_.data() + consumed_, nl - consumed_);
    const std::size_t raw_len = line.size() + 1;
    consumed_ = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (raw_len > limits_.max_line) return fail("reply line too long");
    reply_bytes_ += raw_len;
    if (reply_bytes_ > limits_.max_reply) return fail("reply too long");

    // RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
    //                             Reply-code [ SP textstring ] CRLF
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
      return fail("malformed reply line: \"" + std::string(line.substr(0, 64)) + "\"");
    if (line[0] < '2' || line[0] > '5')
      return fail("reply code out of range: " + std::string(line.substr(0, 3)));
    const bool more = line.size() > 3 && line[3] == '-';
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-')
      return fail("malformed reply line: \"" + std::string(line.substr(0, 64)) + "\"");
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    const bool first = code_ == 0;
    if (!first && code != code_) return fail("multi-line reply changes code");
    code_ = code;
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (!first) text_ += '\n';
    text_.append(text);
    if (more) continue;

    Reply reply;
    reply.code = code_;
    reply.text = std::move(text_);
    // RFC 2034 §4: the enhanced code leads the text; strip it from every line that repeats it.
    EnhancedStatus st;
    if (std::size_t n = parse_enhanced_status(reply.text, st); n > 0) {
      reply.status = st;
      const std::string prefix = reply.text.substr(0, n);
      std::string stripped;
      stripped.reserve(reply.text.size());
      std::size_t pos = 0;
      while (pos <= reply.text.size()) {
        std::size_t end = reply.text.find('\n', pos);
        if (end == std::string::npos) end = reply.text.size();
        std::string_view l(reply.text.data() + pos, end - pos);
        EnhancedStatus again;
        const std::size_t m = parse_enhanced_status(l, again);
        if (m > 0 && again.klass == st.klass && again.subject == st.subject && again.detail == st.detail)
          l.remove_prefix(m);
        if (pos > 0) stripped += '\n';
        stripped.append(l);
        pos = end + 1;
      }
      reply.text = std::move(stripped);
    }
    code_ = 0;
    reply_bytes_ = 0;
    text_.clear();
    return std::optional<Reply>{std::move(reply)};
  }
}

}  // namespace ferry::smtp
