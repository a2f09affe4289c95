#include "mta/smtp/LineReader.hpp"

namespace ferry::smtp {

void LineReader::append(char c) {
  if (++octets_ > max_) {
    too_long_ = true;  // stop storing: the rest of the line is dropped, memory stays bounded
    return;
  }
  line_.push_back(c);
}

std::size_t LineReader::consume(std::string_view input) {
  std::size_t i = 0;
  while (i < input.size() && !complete_) {
    const char c = input[i++];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        complete_ = true;  // RFC 5321 §2.3.8: CRLF is the only line terminator
        break;
      }
      bare_cr_ = true;
      append('\r');
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else {
      if (c == '\n') bare_lf_ = true;
      append(c);
    }
  }
  return i;
}

void LineReader::take_line() {
  line_.clear();
  octets_ = 0;
  complete_ = too_long_ = bare_lf_ = bare_cr_ = false;
}

void LineReader::reset() {
  take_line();
  pending_cr_ = false;
}

}  // namespace ferry::smtp
