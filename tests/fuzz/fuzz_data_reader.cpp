// libFuzzer target: DataReader. The first byte picks the policy and chunk size; the rest is DATA.
// Invariants: chunking never changes the result (differential check against one-shot reading);
// in Normalize mode every stored CR is followed by LF and every LF follows a CR; no stored line
// exceeds 998 octets + CRLF; the reader never consumes past <CRLF>.<CRLF>.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mta/smtp/DataReader.hpp"

using namespace ferry::smtp;

namespace {
struct Outcome {
  std::string body;
  bool done = false;
  DataOutcome outcome = DataOutcome::Ok;
  std::size_t consumed = 0;
};

Outcome read(std::string_view in, const DataLimits& limits, std::size_t chunk) {
  Outcome o;
  DataReader r(o.body, limits);
  while (o.consumed < in.size() && !r.done()) {
    const std::size_t used = r.consume(in.substr(o.consumed, chunk ? chunk : in.size()));
    if (used == 0 && !r.done()) std::abort();  // no progress
    o.consumed += used;
  }
  o.done = r.done();
  o.outcome = r.outcome();
  return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  DataLimits limits;
  limits.bare_newline = (control & 1) ? BareNewlinePolicy::Reject : BareNewlinePolicy::Normalize;
  limits.max_size = (control & 2) ? 64 : 0;
  limits.max_received_headers = 2;
  const std::size_t chunk = 1 + (control >> 2);

  const Outcome whole = read(in, limits, 0);
  const Outcome pieces = read(in, limits, chunk);
  if (whole.body != pieces.body || whole.done != pieces.done || whole.outcome != pieces.outcome ||
      whole.consumed != pieces.consumed)
    std::abort();

  if (whole.done) {
    // The data ended exactly at a <CRLF>.<CRLF> (or ".\r\n" at the very start).
    const std::string_view used = in.substr(0, whole.consumed);
    if (!(used == ".\r\n" || (used.size() >= 5 && used.substr(used.size() - 5) == "\r\n.\r\n"))) std::abort();
  }
  if (limits.bare_newline == BareNewlinePolicy::Normalize && whole.outcome != DataOutcome::TooBig) {
    const std::string& b = whole.body;
    std::size_t line = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      if (b[i] == '\r' && (i + 1 >= b.size() || b[i + 1] != '\n')) std::abort();
      if (b[i] == '\n') {
        if (i == 0 || b[i - 1] != '\r') std::abort();
        line = 0;
      } else if (b[i] != '\r' && ++line > 998) {
        std::abort();
      }
    }
  }
  return 0;
}
