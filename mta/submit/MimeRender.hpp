// MimeRender: a SubmitRequest's parts rendered as an RFC 5322 message with MIME (RFC 2045-2047):
// Date, Message-ID, From, To, Subject (an encoded-word when not ASCII), MIME-Version, then
// text/plain, text/html or both as multipart/alternative (RFC 2046 §5.1.4).
// Contract: pure (time and the unique token are inputs); CRLF line ends; no line longer than 998
// octets (RFC 5322 §2.1.1); bodies 7bit when they can be, else quoted-printable or base64.
#pragma once

#include <string>
#include <string_view>

#include "mta/smtp/ReceivedHeader.hpp"
#include "mta/submit/SubmitRequest.hpp"

namespace ferry::submit {

struct RenderContext {
  std::string hostname;  // the Message-ID's right-hand side
  smtp::WallTime now;    // the Date field
  std::string unique;    // [A-Za-z0-9.]: the Message-ID's left-hand side and the MIME boundary
};

// The message for a request without `raw` (the caller checked that).
std::string render_message(const SubmitRequest& request, const RenderContext& context);

// RFC 2045 §6.7 quoted-printable of CRLF text: encoded lines at most 76 characters, soft breaks "=".
std::string quoted_printable(std::string_view crlf_text);
// RFC 2045 §6.8 base64 in lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view data);
// RFC 2047 §4.1 "B" encoded-words for an unstructured field's UTF-8 text, folded so that no word
// is longer than 75 characters and no character is split; continuation lines start with a space.
std::string encoded_words(std::string_view utf8);

}  // namespace ferry::submit
