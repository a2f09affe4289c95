// DataReader: the DATA body reader (RFC 5321 §4.1.1.4, §4.5.2) with the SMTP-smuggling rules.
// Contract: only <CRLF>.<CRLF> ends the data (the start of the data counts as after CRLF); dot-
// stuffing is removed; output lines end in CRLF; everything is appended to ONE caller-owned body
// string; after a failure (size, bare newline, loop) it still reads to the real end of data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::smtp {

// What to do with a bare LF (or bare CR) inside DATA (Postfix 3.9 smtpd_forbid_bare_newline).
//  Normalize: a bare LF or a bare CR ends the line and is stored as CRLF. Postfix keeps a bare CR
//             inside the line; we store it as CRLF instead so every stored line ends in CRLF and
//             the client never transmits a bare CR (RFC 5321 §2.3.8, checklist 5321-02).
//  Reject:    read to the real end of data, then refuse the message (550 "bare <LF> received").
// In both modes a line that starts after a bare LF/CR is NOT at a line start for end-of-data
// purposes: <LF>.<LF>, <LF>.<CRLF>, <CRLF>.<LF>, <CR>.<CR> never end DATA (CVE-2023-51764).
enum class BareNewlinePolicy { Normalize, Reject };

struct DataLimits {
  std::uint64_t max_size = 0;             // octets stored by the reader; 0 = unlimited
  std::size_t max_received_headers = 50;  // more Received: headers than this = mail loop
  BareNewlinePolicy bare_newline = BareNewlinePolicy::Normalize;
  // RFC 5321 §4.5.3.1.6: 998 octets + CRLF per text line. A longer line is broken after 998
  // octets by inserting CRLF SP, as Postfix's smtp_line_length_limit does: the SP keeps a header
  // folded (RFC 5322 §2.2.3) and limits the damage to MIME bodies; memory per line stays bounded.
  std::size_t max_line = 998;
};

// Dropped: the daemon had no memory for the message (drop()); the data was read, not stored.
enum class DataOutcome { Ok, TooBig, BareLf, BareCr, TooManyHops, Dropped };
const char* to_string(DataOutcome outcome) noexcept;

// Counts "Received:" header fields in the header section of `message` (up to the first empty
// line), as DataReader does while streaming; used for BDAT bodies (RFC 5321 §6.3).
std::size_t count_received_headers(std::string_view message);

class DataReader {
 public:
  DataReader(std::string& body, const DataLimits& limits);

  // Consumes octets up to and including the terminating <CRLF>.<CRLF>; returns how many were
  // taken (less than input.size() only when the data ended inside `input`).
  std::size_t consume(std::string_view input);

  // Stops storing (the daemon has no memory for this message) and frees what was stored; the
  // reader still looks for the real end of data, and the outcome is Dropped.
  void drop();

  bool done() const { return done_; }
  bool storing() const { return !too_big_ && !dropped_; }
  DataOutcome outcome() const;
  std::uint64_t size() const { return stored_; }  // octets this reader appended
  std::size_t received_headers() const { return received_; }
  std::size_t folded_lines() const { return folds_; }

 private:
  enum class State { LineStart, Dot, DotCr, Text, Cr };
  void emit(std::string_view s);
  void emit_text(std::string_view s);
  void segment_done();
  void end_line(bool real_crlf);
  void bare(bool lf);

  std::string& body_;
  DataLimits limits_;
  std::size_t start_;  // body_.size() when the reader began
  State state_ = State::LineStart;
  bool real_bol_ = true;  // the current line began after CRLF (or at the start)
  bool done_ = false;
  bool too_big_ = false;
  bool dropped_ = false;
  bool bare_lf_ = false;
  bool bare_cr_ = false;
  bool in_headers_ = true;
  std::size_t line_len_ = 0;       // octets stored on the current output line
  std::size_t segment_start_ = 0;  // index in body_ of the current output line
  std::uint64_t stored_ = 0;
  std::size_t received_ = 0;
  std::size_t folds_ = 0;
};

}  // namespace ferry::smtp
