// DkimSigner: signs a message at acceptance with every [[dkim]] key of its From: domain
// (RFC 6376 §5, RFC 8463). Contract: create() loads and test-signs every key (errors name the
// file); sign() is const, pure apart from OpenSSL, and safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"
#include "mta/dkim/Canonicalization.hpp"
#include "mta/dkim/DefaultHeaders.hpp"
#include "mta/dkim/DkimKey.hpp"

namespace ferry::dkim {

// One [[dkim]] entry (mta/dkim/FromConfig.hpp converts config::DkimEntry).
struct SigningEntry {
  std::string domain;    // d=, lower-case
  std::string selector;  // s=
  std::string key_path;  // PEM private key; the algorithm follows from the key
  Canon header_canon = Canon::Relaxed;
  Canon body_canon = Canon::Relaxed;
  std::vector<std::string> headers = default_signed_headers();  // "from" must be among them
  bool sign_subdomains = false;     // also sign mail From: a subdomain of `domain`
  std::int64_t expire_seconds = 0;  // x= = t= + this; 0 = no x=
};

// At most this many instances of one header field name are signed (the bottom-most ones, which
// verifiers take first): a message with 60,000 To: fields gets a signature of bounded size and
// cost. Instances above them are left unsigned, as fields added in transit would be.
inline constexpr std::size_t kMaxSignedInstances = 10;

// The h= list for `headers` (RFC 6376 §5.4.2): each configured name once per instance present in
// the message, at most kMaxSignedInstances times (verifiers take instances from the bottom up),
// and "from" once more than that (oversigning, §8.15: a From: added later breaks the signature).
std::vector<std::string> select_headers(const std::vector<HeaderField>& present,
                                        const std::vector<std::string>& names);

// The canonical header data of §3.7 for one signature: the selected fields (bottom-up instances)
// then the unsigned DKIM-Signature field without its final CRLF.
std::string header_hash_input(const std::vector<HeaderField>& present, const std::vector<std::string>& h,
                              std::string_view unsigned_field, Canon canon);

// One complete DKIM-Signature field (CRLF-terminated) for `message` with `entry` and `key`.
Result<std::string> sign_message(std::string_view message, const SigningEntry& entry, const DkimKey& key,
                                 TimeMs now);

struct SignOutcome {
  std::string headers;  // DKIM-Signature field(s) to prepend, CRLF-terminated; empty = not signed
  std::string domain;   // the d= used; empty when not signed
  std::string skipped;  // why not signed, for the log ("no From: header field", ...)
};

class DkimSigner {
 public:
  DkimSigner() = default;  // signs nothing

  // Loads every key (DkimKey::load) and signs a test message with it, so a broken key stops
  // start-up instead of failing mail later. The error names the file (config error, exit 78).
  static Result<DkimSigner> create(const std::vector<SigningEntry>& entries);
  // The same with keys already loaded (tests, tools).
  static DkimSigner with_keys(std::vector<std::pair<SigningEntry, DkimKey>> signers);

  bool empty() const { return signers_.empty(); }

  // The signatures for `message` (the header section and body exactly as they will be stored:
  // CRLF lines, dot-stuffing removed). The domain of the single From: address selects the entries:
  // those for exactly that domain, or else those of the closest parent domain with
  // sign_subdomains. Every selected entry signs (e.g. RSA and Ed25519 together).
  // Not signed (outcome.headers empty, outcome.skipped says why): no or several From: fields, no
  // or several From: domains, no entry for the domain. An error means signing failed: the server
  // answers 451 4.7.0 rather than send the message unsigned.
  // The caller decides which mail is signed at all: only mail from relay networks or
  // authenticated clients, never mail merely passing through.
  Result<SignOutcome> sign(std::string_view message, TimeMs now) const;

  // For a message we changed after signing it (8-bit text made quoted-printable for a server
  // without 8BITMIME): when it carries a DKIM-Signature of one of our entries (same d= and s=),
  // those signatures are removed and the message is signed again as sign() would; a message
  // without one of ours is returned unchanged (a signature of another domain cannot be renewed).
  Result<std::string> resign(std::string_view message, TimeMs now) const;

 private:
  std::vector<std::pair<SigningEntry, DkimKey>> signers_;
};

}  // namespace ferry::dkim
