#include "mta/smtp/DataReader.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

const char* to_string(DataOutcome outcome) noexcept {
  switch (outcome) {
    case DataOutcome::Ok:
      return "ok";
    case DataOutcome::TooBig:
      return "too big";
    case DataOutcome::BareLf:
      return "bare LF";
    case DataOutcome::BareCr:
      return "bare CR";
    case DataOutcome::TooManyHops:
      return "too many hops";
    case DataOutcome::Dropped:
      return "dropped";
  }
  return "unknown";
}

std::size_t count_received_headers(std::string_view message) {
  std::size_t count = 0;
  while (!message.empty()) {
    const std::size_t nl = message.find('\n');
    std::string_view line = message.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (istarts_with(line, "Received:")) ++count;
    if (nl == std::string_view::npos) break;
    message.remove_prefix(nl + 1);
  }
  return count;
}

DataReader::DataReader(std::string& body, const DataLimits& limits)
    : body_(body), limits_(limits), start_(body.size()), segment_start_(body.size()) {}

void DataReader::drop() {
  dropped_ = true;
  body_.resize(start_);
  body_.shrink_to_fit();
}

DataOutcome DataReader::outcome() const {
  if (dropped_) return DataOutcome::Dropped;
  if (too_big_) return DataOutcome::TooBig;
  if (bare_lf_) return DataOutcome::BareLf;
  if (bare_cr_) return DataOutcome::BareCr;
  if (limits_.max_received_headers != 0 && received_ > limits_.max_received_headers)
    return DataOutcome::TooManyHops;
  return DataOutcome::Ok;
}

void DataReader::emit(std::string_view s) {
  if (!storing()) return;
  // stored_ never exceeds max_size, so `size > max - stored` cannot wrap as `stored + size` could.
  if (limits_.max_size != 0 && s.size() > limits_.max_size - stored_) {
    // RFC 1870 §6.3: keep reading to the end of data, then 552. Free what we held.
    too_big_ = true;
    body_.resize(start_);
    body_.shrink_to_fit();
    return;
  }
  body_.append(s);
  stored_ += s.size();
}

void DataReader::emit_text(std::string_view s) {
  while (!s.empty()) {
    if (line_len_ >= limits_.max_line) {
      segment_done();
      emit("\r\n ");  // fold: see DataLimits::max_line
      ++folds_;
      segment_start_ = body_.size();
      line_len_ = 1;
    }
    const std::size_t take = std::min(s.size(), limits_.max_line - line_len_);
    emit(s.substr(0, take));
    line_len_ += take;
    s.remove_prefix(take);
  }
}

// Counts Received: headers while still in the header section (RFC 5321 §6.3 loop detection).
void DataReader::segment_done() {
  if (!in_headers_ || !storing()) return;
  std::string_view seg(body_.data() + segment_start_, body_.size() - segment_start_);
  if (seg.empty())
    in_headers_ = false;
  else if (istarts_with(seg, "Received:"))
    ++received_;
}

void DataReader::end_line(bool real_crlf) {
  segment_done();
  emit("\r\n");
  segment_start_ = body_.size();
  line_len_ = 0;
  real_bol_ = real_crlf;
  state_ = State::LineStart;
}

void DataReader::bare(bool lf) {
  if (limits_.bare_newline == BareNewlinePolicy::Reject) (lf ? bare_lf_ : bare_cr_) = true;
  end_line(false);  // normalised to CRLF, but the next line is no line start for end-of-data
}

std::size_t DataReader::consume(std::string_view in) {
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n && !done_) {
    switch (state_) {
      case State::LineStart:
        if (in[i] == '.') {
          ++i;
          state_ = State::Dot;
        } else {
          state_ = State::Text;
        }
        break;
      case State::Dot:
        // A line that began with '.'.
        if (in[i] == '\r') {
          ++i;
          state_ = State::DotCr;
        } else if (in[i] == '\n') {
          ++i;  // ".<LF>": a lone dot that ends nothing; kept (§4.5.2 unstuffs only ".x")
          emit_text(".");
          bare(true);
        } else {
          state_ = State::Text;  // §4.5.2: the leading dot of ".x" is removed
        }
        break;
      case State::DotCr:
        if (in[i] == '\n') {
          ++i;
          if (real_bol_) {
            done_ = true;  // <CRLF>.<CRLF>: the one and only end of data
          } else {
            emit_text(".");  // <LF>.<CRLF> or <CR>.<CRLF>: body, never the end
            end_line(true);
          }
        } else {
          emit_text(".");  // ".<CR>x": a dot line ended by a bare CR
          bare(false);
        }
        break;
      case State::Text: {
        std::size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n') ++j;
        if (j > i) emit_text(in.substr(i, j - i));
        i = j;
        if (i < n) {
          if (in[i] == '\r') {
            state_ = State::Cr;
          } else {
            bare(true);
          }
          ++i;
        }
        break;
      }
      case State::Cr:
        if (in[i] == '\n') {
          ++i;
          end_line(true);
        } else {
          bare(false);  // the octet after a bare CR starts the next line; not consumed here
        }
        break;
    }
  }
  return i;
}

}  // namespace ferry::smtp
