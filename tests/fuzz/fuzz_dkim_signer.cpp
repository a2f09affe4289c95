// libFuzzer target: the DKIM signer (RFC 6376) on arbitrary messages. The header parser, the
// header selection and both canonicalizations see every input. Invariants: sign() never crashes
// or loops; a signature is one CRLF-terminated "DKIM-Signature:" field whose lines stay short;
// h= names at most 10 instances of a field (plus the oversigned From:), whatever the message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mta/dkim/DkimKey.hpp"
#include "mta/dkim/DkimSigner.hpp"

using namespace ferry;
using namespace ferry::dkim;

namespace {

const DkimSigner& signer(bool simple) {
  static const auto make = [](Canon canon) {
    auto key = DkimKey::generate(Algorithm::Ed25519Sha256);
    if (!key) std::abort();
    SigningEntry e;
    e.domain = "example.org";
    e.selector = "fuzz";
    e.header_canon = canon;
    e.body_canon = canon;
    e.headers.push_back("x-repeated");  // beside the defaults, which sign To:
    std::vector<std::pair<SigningEntry, DkimKey>> v;
    v.emplace_back(std::move(e), std::move(*key));
    return DkimSigner::with_keys(std::move(v));
  };
  static const DkimSigner relaxed = make(Canon::Relaxed);
  static const DkimSigner plain = make(Canon::Simple);
  return simple ? plain : relaxed;
}

// How many times `name` is an entry of the h= value (colon-separated, folding white space).
std::size_t count(std::string_view hlist, std::string_view name) {
  std::size_t n = 0;
  std::string token;
  for (char c : std::string(hlist) + ":") {
    if (c == ':') {
      if (token == name) ++n;
      token.clear();
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      token += c;
    }
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool simple = data[0] & 1;
  // A From: the signer will choose, then the fuzzer's header fields and body.
  std::string message = "From: a@example.org\r\n";
  message.append(reinterpret_cast<const char*>(data + 1), size - 1);
  auto out = signer(simple).sign(message, 1704067200000);
  if (!out || out->headers.empty()) return 0;
  const std::string& h = out->headers;
  if (h.rfind("DKIM-Signature:", 0) != 0 || h.size() < 2 || h.substr(h.size() - 2) != "\r\n") std::abort();
  // The first "h=" is the tag (the fixed v, a, c, d, s, t, x values before it contain none; bh=
  // comes after).
  const auto hlist_at = h.find("h=") - 1;
  if (hlist_at + 1 == 0 || (h[hlist_at] != ' ' && h[hlist_at] != '\t')) std::abort();
  const std::size_t end = h.find(';', hlist_at);
  if (end == std::string::npos) std::abort();
  const std::string_view hlist(h.data() + hlist_at + 3, end - hlist_at - 3);
  if (count(hlist, "to") > 10 || count(hlist, "x-repeated") > 10) std::abort();
  return 0;
}
