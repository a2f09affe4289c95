// SignatureHeader: builds the DKIM-Signature header field (RFC 6376 §3.5), folded to lines of at
// most 78 characters. Contract: pure; the text before b='s value is exactly what gets hashed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mta/dkim/Canonicalization.hpp"
#include "mta/dkim/DkimKey.hpp"

namespace ferry::dkim {

struct SignatureFields {
  Algorithm algorithm = Algorithm::RsaSha256;
  Canon header_canon = Canon::Relaxed;
  Canon body_canon = Canon::Relaxed;
  std::string domain;                       // d=
  std::string selector;                     // s=
  std::vector<std::string> signed_headers;  // h=, in order, repeats allowed
  std::int64_t timestamp = 0;               // t= (Unix seconds)
  std::optional<std::int64_t> expiration;   // x= (Unix seconds)
  std::string body_hash;                    // bh= (base64)
};

// "DKIM-Signature: v=1; a=...; ... bh=...;\r\n\tb=": the field up to and including "b=" with
// an empty signature and no CRLF. RFC 6376 §3.7: this text (canonicalized, without the final
// CRLF) ends the data that is signed.
std::string unsigned_signature_field(const SignatureFields& fields);

// The unsigned field with `signature_b64` appended as b='s value (folded) and a final CRLF.
std::string complete_signature_field(std::string unsigned_field, std::string_view signature_b64);

}  // namespace ferry::dkim
