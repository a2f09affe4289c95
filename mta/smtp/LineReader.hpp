// LineReader: splits the command stream into lines ending in CRLF only (RFC 5321 §2.3.8).
// Contract: a bare CR or LF never ends a line; it is kept in the line and flagged, so the session
// can refuse it. Memory per line is bounded by `max_octets`: longer lines are discarded up to
// their CRLF and reported as too long.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::smtp {

class LineReader {
 public:
  explicit LineReader(std::size_t max_octets = 12288) : max_(max_octets) {}

  // Consumes octets of `input` up to and including the first CRLF that completes a line, and
  // returns how many it took. When a line completes, has_line() is true until take_line().
  std::size_t consume(std::string_view input);

  bool has_line() const { return complete_; }
  std::string_view line() const { return line_; }  // without the CRLF
  bool too_long() const { return too_long_; }      // more than max_octets before CRLF
  bool bare_lf() const { return bare_lf_; }        // the line contained a LF not after CR
  bool bare_cr() const { return bare_cr_; }        // the line contained a CR not before LF
  void take_line();                                // resets for the next line
  void reset();                                    // drops any partial line too
  bool empty() const { return line_.empty() && !pending_cr_ && !complete_; }

 private:
  void append(char c);

  std::size_t max_;
  std::string line_;
  std::size_t octets_ = 0;
  bool pending_cr_ = false;
  bool complete_ = false;
  bool too_long_ = false;
  bool bare_lf_ = false;
  bool bare_cr_ = false;
};

}  // namespace ferry::smtp
