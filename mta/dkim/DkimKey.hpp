// DkimKey: a DKIM private key (RSA >= 2048 bits or Ed25519) held by OpenSSL, and the EVP
// operations DKIM needs. Contract: load/generate return errors naming the file; a loaded key is
// immutable and may sign from several threads at once (each call has its own EVP context).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ferry/Result.hpp"

namespace ferry::dkim {

enum class Algorithm { RsaSha256, Ed25519Sha256 };
std::string_view to_string(Algorithm);  // the a= value: "rsa-sha256" / "ed25519-sha256"
std::string_view key_type(Algorithm);   // the k= value: "rsa" / "ed25519"

inline constexpr unsigned kMinRsaBits = 2048;  // RFC 8301 §3.2 says 1024; the mailbox providers 2048

class DkimKey {
 public:
  // A PEM private key (PKCS#8 "PRIVATE KEY" or "RSA PRIVATE KEY"). Errors name the file:
  // unreadable, not a PEM private key, neither RSA nor Ed25519, RSA shorter than 2048 bits.
  static Result<DkimKey> load(const std::string& path);
  static Result<DkimKey> from_pem(std::string_view pem, std::string_view name);
  // A fresh key (`bits` is used for RSA only).
  static Result<DkimKey> generate(Algorithm algorithm, unsigned bits = kMinRsaBits);

  Algorithm algorithm() const;
  unsigned bits() const;  // RSA modulus size; 256 for Ed25519

  // The b= signature of `data` (the canonical header data of RFC 6376 §3.7): RSASSA-PKCS1-v1_5
  // over SHA-256(data) for rsa-sha256; PureEdDSA over SHA-256(data) for ed25519-sha256
  // (RFC 8463 §3: Ed25519 signs the 32-byte hash, not the data). Raw bytes, not base64.
  Result<std::string> sign(std::string_view data) const;

  std::string private_key_pem() const;  // PKCS#8 PEM
  // The p= value of the DNS record (RFC 6376 §3.6.1): base64 of the SubjectPublicKeyInfo DER for
  // RSA, of the raw 32-byte public key for Ed25519 (RFC 8463 §4.2).
  std::string public_key_base64() const;
  // "v=DKIM1; k=rsa; p=..." (the TXT record's text).
  std::string dns_txt_value() const;

 private:
  struct Impl;
  explicit DkimKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// "sel._domainkey.example.com. IN TXT "..." "..."": the zone-file line to publish, the text split
// into character-strings of at most 255 octets (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2).
std::string dns_txt_record(std::string_view selector, std::string_view domain, std::string_view txt_value);

// Base64 (RFC 4648 §4, with padding, no line breaks), via OpenSSL's EVP_EncodeBlock.
std::string base64(std::string_view bytes);

// Incremental SHA-256 (EVP) of the canonical body: the bh= value (RFC 6376 §3.7).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string finish();  // 32 raw bytes; empty if OpenSSL failed

 private:
  void* ctx_;  // EVP_MD_CTX (OpenSSL headers stay in the .cpp)
  bool failed_ = false;
};

}  // namespace ferry::dkim
