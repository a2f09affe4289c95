// HeaderFold: RFC 5322 §2.2.3 folding (see HeaderFold.hpp).
#include "mta/dsn/HeaderFold.hpp"

#include "mta/dsn/Text.hpp"

namespace ferry::dsn {

std::string fold_field(std::string_view field, std::size_t soft) {
  // Tokens are "WSP* non-WSP*": a fold may go before any token but the first.
  std::string out;
  out.reserve(field.size() + field.size() / 32);
  std::size_t line_len = 0;
  std::size_t pos = 0;
  int tokens = 0;
  while (pos < field.size()) {
    std::size_t end = pos;
    while (end < field.size() && (field[end] == ' ' || field[end] == '\t')) ++end;
    while (end < field.size() && field[end] != ' ' && field[end] != '\t') ++end;
    std::string_view token = field.substr(pos, end - pos);
    pos = end;

    // Tokens 0 and 1 are "Name:" and the first word of the value: never fold between them.
    if (tokens >= 2 && line_len + token.size() > soft && line_len > 0) {
      out += "\r\n";
      line_len = 0;
    }
    ++tokens;
    // A token too long for any line (no white space to fold at): break it where it must be.
    while (line_len + token.size() > kMaxLineOctets) {
      std::size_t take = kMaxLineOctets - line_len;
      while (take > 1 && (static_cast<unsigned char>(token[take]) & 0xC0) == 0x80) --take;
      out.append(token.substr(0, take));
      out += "\r\n ";
      line_len = 1;
      token.remove_prefix(take);
    }
    out.append(token);
    line_len += token.size();
  }
  return out;
}

}  // namespace ferry::dsn
