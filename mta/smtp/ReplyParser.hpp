// ReplyParser: incremental parser of SMTP server replies for the client side (RFC 5321 §4.2).
// Contract: bytes in (any chunking), complete ferry::Reply values out, in order; a malformed reply
// is an error value and leaves the parser failed (the connection cannot be trusted any more).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/Reply.hpp"
#include "ferry/Result.hpp"

namespace ferry::smtp {

struct ReplyParserLimits {
  // RFC 5321 §4.5.3.1.5: reply lines are at most 512 octets with CRLF; real servers exceed it,
  // so longer lines are tolerated up to this cap (Postfix reads up to 2048 + a bit).
  std::size_t max_line = 4096;
  std::size_t max_reply = 64 * 1024;  // a whole multi-line reply (EHLO lists, banners)
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyParserLimits limits = {});

  // Appends bytes received from the server.
  void feed(std::string_view bytes);

  // The next complete reply; nullopt when more bytes are needed; an Error (kind Invalid) when the
  // input is malformed: not "ddd", "ddd text" or "ddd-text"; a first digit outside 2..5
  // (§4.2.1); a continuation line with a different code (§4.2.1 same code on every line); a line
  // or reply over the limits. Lines end in CRLF; a bare LF is tolerated (be liberal in what we
  // accept from servers). `text` joins the lines with "\n" without the codes; when the first line
  // starts with an enhanced status "x.y.z " (RFC 2034 §4, RFC 3463 §2) it fills `status` and is
  // removed from every line that repeats it.
  Result<std::optional<Reply>> next();

  bool failed() const noexcept { return failed_; }
  // Bytes received but not yet part of a returned reply.
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }
  // Drops buffered bytes and any partial reply (RFC 3207 §4.2: after STARTTLS's 220, plaintext
  // bytes already received must be discarded). Clears the failed state.
  void reset();

 private:
  Error fail(std::string message);

  ReplyParserLimits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // start of the first unparsed line in buffer_
  // the reply being assembled
  int code_ = 0;
  std::size_t reply_bytes_ = 0;
  std::string text_;
  bool failed_ = false;
};

// Parses an RFC 3463 "class.subject.detail" at the start of `text` (class 2, 4 or 5; subject and
// detail 1–3 digits) followed by a space or the end. Returns the characters consumed including
// the space, or 0 when there is none.
std::size_t parse_enhanced_status(std::string_view text, EnhancedStatus& out);

}  // namespace ferry::smtp
