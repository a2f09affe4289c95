// MimeRender: see MimeRender.hpp. The transfer encoding is chosen per part: 7bit keeps ASCII text
// readable at the recipient's end; quoted-printable keeps mostly-ASCII text readable in the
// source; base64 is shorter when most octets are not ASCII (RFC 2045 §6.1).
#include "mta/submit/MimeRender.hpp"

#include <algorithm>

#include "ferry/text/SafeText.hpp"
#include "mta/smtp/Base64.hpp"

namespace ferry::submit {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

enum class Encoding { SevenBit, QuotedPrintable, Base64 };

Encoding choose_encoding(std::string_view text, bool allow_7bit) {
  std::size_t high = 0, longest = 0, line = 0;
  bool controls = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (text.substr(i, 2) == "\r\n") {
      longest = std::max(longest, line);
      line = 0;
      ++i;
      continue;
    }
    ++line;
    if (c >= 0x80) ++high;
    // A control character other than TAB has no place in 7bit text (RFC 2045 §2.7).
    if ((c < 0x20 && c != '\t') || c == 0x7f) controls = true;
  }
  longest = std::max(longest, line);
  if (allow_7bit && high == 0 && !controls && longest <= 998) return Encoding::SevenBit;
  return high * 2 > text.size() ? Encoding::Base64 : Encoding::QuotedPrintable;
}

const char* encoding_name(Encoding e) {
  switch (e) {
    case Encoding::SevenBit:
      return "7bit";
    case Encoding::QuotedPrintable:
      return "quoted-printable";
    default:
      return "base64";
  }
}

std::string encode(std::string_view text, Encoding e) {
  if (e == Encoding::SevenBit) {
    std::string out(text);
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
  }
  return e == Encoding::QuotedPrintable ? quoted_printable(text) : base64_lines(text);
}

// One part's fields and its encoded body.
std::string part(std::string_view subtype, std::string_view text, bool allow_7bit) {
  const Encoding e = choose_encoding(text, allow_7bit);
  std::string out = "Content-Type: text/";
  out.append(subtype);
  out += "; charset=utf-8\r\nContent-Transfer-Encoding: ";
  out += encoding_name(e);
  out += "\r\n\r\n";
  out += encode(text, e);
  return out;
}

// RFC 5322 §3.6.3: one address per line keeps every line short whatever the recipient count.
std::string to_field(const std::vector<std::string>& to) {
  std::string out = "To: ";
  for (std::size_t i = 0; i < to.size(); ++i) {
    if (i) out += ",\r\n ";
    out += to[i];
  }
  return out + "\r\n";
}

std::string subject_field(std::string_view subject) {
  if (text::is_ascii(subject)) return "Subject: " + std::string(subject) + "\r\n";
  return "Subject: " + encoded_words(subject) + "\r\n";
}

// The length of the UTF-8 sequence starting with `lead` (the text was validated by the parser).
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  return lead >= 0xC0 ? 2 : 1;
}

}  // namespace

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t col = 0;
  auto emit = [&](std::string_view piece) {
    // A soft line break keeps encoded lines at 76 characters, the "=" included (RFC 2045 §6.7 (5)).
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (text.substr(i, 2) == "\r\n") {
      out += "\r\n";
      col = 0;
      ++i;
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text.substr(i + 1, 2) == "\r\n";
    // RFC 2045 §6.7 (2), (3): printable ASCII except "=" as itself; space and TAB too, except at
    // the end of a line, where a transport may strip them.
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    // A "." alone at the start of a line is safe in SMTP (dot-stuffing), but a "From " at the
    // start of a line is mangled by mbox stores: encoding the F avoids that (RFC 2049 §3 (8)).
    const bool from_line = col == 0 && text.substr(i, 5) == "From ";
    if (literal && !from_line) {
      const char one[1] = {static_cast<char>(c)};
      emit(std::string_view(one, 1));
    } else {
      const char enc[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      emit(std::string_view(enc, 3));
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string base64_lines(std::string_view data) {
  const std::string b64 = smtp::base64_encode(data);
  std::string out;
  out.reserve(b64.size() + b64.size() / 38 + 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    out.append(b64, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string encoded_words(std::string_view utf8) {
  // "=?UTF-8?B?" + base64 + "?=" <= 75 (RFC 2047 §2): 12 fixed characters leave 63 for base64,
  // i.e. 45 input octets, never splitting a character (RFC 2047 §5 (3)).
  constexpr std::size_t kChunk = 45;
  std::string out;
  std::size_t i = 0;
  bool first = true;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      const std::size_t n = utf8_length(static_cast<unsigned char>(utf8[end]));
      if (end + n - i > kChunk) break;
      end += n;
    }
    if (end == i) end = std::min(utf8.size(), i + utf8_length(static_cast<unsigned char>(utf8[i])));
    if (!first) out += "\r\n ";
    out += "=?UTF-8?B?" + smtp::base64_encode(utf8.substr(i, end - i)) + "?=";
    first = false;
    i = end;
  }
  return out;
}

std::string render_message(const SubmitRequest& r, const RenderContext& ctx) {
  std::string out;
  out += "Date: " + smtp::format_rfc5322_date(ctx.now) + "\r\n";
  out += "Message-ID: <" + ctx.unique + "@" + ctx.hostname + ">\r\n";
  out += "From: " + r.from + "\r\n";
  out += to_field(r.to);
  if (!r.subject.empty()) out += subject_field(r.subject);
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (r.text && r.html) {
    // RFC 2046 §5.1.1: the boundary must not occur in the parts; "=_" cannot occur in
    // quoted-printable or base64 output, so both parts are encoded with one of those.
    const std::string boundary = "=_ferry_" + ctx.unique;
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    out += "This is a multi-part message in MIME format.\r\n";
    // RFC 2046 §5.1.4: in increasing order of faithfulness, the plain text first.
    out += "--" + boundary + "\r\n" + part("plain", *r.text, false);
    out += "--" + boundary + "\r\n" + part("html", *r.html, false);
    out += "--" + boundary + "--\r\n";
  } else if (r.html) {
    out += part("html", *r.html, true);
  } else {
    out += part("plain", r.text ? *r.text : std::string(), true);
  }
  return out;
}

}  // namespace ferry::submit
