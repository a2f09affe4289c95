// SignatureHeader: DKIM-Signature tag-list construction and folding (see the header).
#include "mta/dkim/SignatureHeader.hpp"

namespace ferry::dkim {
namespace {

constexpr std::size_t kMaxLine = 78;  // RFC 5322 §2.1.1: SHOULD NOT exceed 78 characters

// Appends pieces to a header field, starting a continuation line (CRLF TAB: FWS) before a piece
// that would pass the line limit. Breaks only where the tag grammar allows FWS (§3.2, §3.5).
class Folder {
 public:
  explicit Folder(std::string start) : out_(std::move(start)), line_(out_.size()) {}
  // `piece` preceded by a space, or by a fold when it does not fit.
  void word(std::string_view piece) {
    if (line_ + 1 + piece.size() > kMaxLine)
      fold();
    else
      append(" ");
    append(piece);
  }
  // `piece` directly after the previous one, or after a fold (FWS) when it does not fit.
  void join(std::string_view piece) {
    if (line_ + piece.size() > kMaxLine && line_ > 1) fold();
    append(piece);
  }
  std::string take() { return std::move(out_); }

 private:
  void fold() {
    out_ += "\r\n\t";
    line_ = 8;  // a TAB counts as up to 8 columns in many readers; be conservative
  }
  void append(std::string_view s) {
    out_ += s;
    line_ += s.size();
  }
  std::string out_;
  std::size_t line_;
};

}  // namespace

std::string unsigned_signature_field(const SignatureFields& f) {
  Folder fold("DKIM-Signature:");
  fold.word("v=1;");
  fold.word("a=" + std::string(to_string(f.algorithm)) + ";");
  fold.word("c=" + std::string(to_string(f.header_canon)) + "/" + std::string(to_string(f.body_canon)) + ";");
  fold.word("d=" + f.domain + ";");
  fold.word("s=" + f.selector + ";");
  fold.word("t=" + std::to_string(f.timestamp) + ";");
  if (f.expiration) fold.word("x=" + std::to_string(*f.expiration) + ";");
  // h=: FWS is allowed around each colon (§3.5 sig-h-tag), so long lists fold between names.
  for (std::size_t i = 0; i < f.signed_headers.size(); ++i) {
    const bool last = i + 1 == f.signed_headers.size();
    const std::string piece = f.signed_headers[i] + (last ? ";" : ":");
    if (i == 0)
      fold.word("h=" + piece);
    else
      fold.join(piece);
  }
  fold.word("bh=" + f.body_hash + ";");
  fold.word("b=");
  return fold.take();
}

std::string complete_signature_field(std::string field, std::string_view sig) {
  // The b= value may contain FWS anywhere (§3.5 base64string); verifiers remove the whole value,
  // so folding it never changes the signed data.
  std::size_t line = field.size() - (field.rfind('\n') == std::string::npos ? 0 : field.rfind('\n') + 1);
  if (field.find('\n') != std::string::npos) line += 7;  // the TAB, as in Folder
  while (!sig.empty()) {
    const std::size_t room = line < kMaxLine ? kMaxLine - line : 0;
    if (room < 8) {
      field += "\r\n\t";
      line = 8;
      continue;
    }
    const std::size_t n = std::min(room, sig.size());
    field.append(sig.substr(0, n));
    sig.remove_prefix(n);
    line += n;
  }
  field += "\r\n";
  return field;
}

}  // namespace ferry::dkim
