// libFuzzer target: the HTTP submission core — JsonValue, SubmitRequest and MimeRender — on
// arbitrary request bodies. Invariants: no crash/UB; an accepted request renders to a message with
// CRLF line ends only, no NUL and no line over 998 octets (RFC 5322 §2.1.1), whose header section
// holds only the fields Ferry writes or the request named (nothing injected through a value).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mta/submit/JsonValue.hpp"
#include "mta/submit/MimeRender.hpp"
#include "mta/submit/SubmitRequest.hpp"

using namespace ferry::submit;

namespace {

void check_lines(std::string_view m) {
  if (m.find('\0') != std::string_view::npos) std::abort();
  std::size_t start = 0;
  while (start < m.size()) {
    const std::size_t end = m.find("\r\n", start);
    if (end == std::string_view::npos) std::abort();  // the message ends with CRLF
    const std::string_view line = m.substr(start, end - start);
    if (line.size() > 998 || line.find('\r') != std::string_view::npos ||
        line.find('\n') != std::string_view::npos)
      std::abort();
    start = end + 2;
  }
}

bool expected_field(std::string_view name, const SubmitRequest& r) {
  for (const char* f : {"Date", "Message-ID", "From", "To", "Subject", "MIME-Version", "Content-Type",
                        "Content-Transfer-Encoding"})
    if (name == f) return true;
  for (const auto& [n, v] : r.headers)
    if (name == n) return true;
  return false;
}

void check_header(std::string_view m, const SubmitRequest& r) {
  const std::string_view head = m.substr(0, m.find("\r\n\r\n"));
  std::size_t start = 0;
  while (start < head.size()) {
    std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(start, end - start);
    if (!line.empty() && line[0] != ' ' && line[0] != '\t' &&
        !expected_field(line.substr(0, line.find(':')), r))
      std::abort();
    start = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  JsonLimits limits;
  limits.max_bytes = 1 << 20;
  auto json = parse_json(body, limits);
  if (!json) return 0;
  auto request = parse_submit_request(*json);
  if (!request) return 0;
  if (request->raw) {
    if (raw_message_problem(*request->raw)) std::abort();  // the parser accepted it
    return 0;
  }
  const std::string m = render_message(*request, RenderContext{"mx.example.com", {1767225600000, 0}, "ID"});
  check_lines(m);
  check_header(m, *request);
  return 0;
}
