// DkimKey: PEM loading, generation and signing through OpenSSL's EVP API (see the header).
#include "mta/dkim/DkimKey.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ferry::dkim {

struct DkimKey::Impl {
  EVP_PKEY* pkey = nullptr;
  Algorithm algorithm = Algorithm::RsaSha256;
  unsigned bits = 0;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

Error key_error(std::string_view name, const std::string& what) {
  return make_error(ErrorKind::Invalid, "DKIM key " + std::string(name) + ": " + what);
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

std::string_view to_string(Algorithm a) {
  return a == Algorithm::RsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}
std::string_view key_type(Algorithm a) { return a == Algorithm::RsaSha256 ? "rsa" : "ed25519"; }

Result<DkimKey> DkimKey::load(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return key_error(path, std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buf[16384];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (1u << 20)) text.append(buf, got);
  const int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return key_error(path, std::string("cannot read: ") + std::strerror(err));
  return from_pem(text, path);
}

Result<DkimKey> DkimKey::from_pem(std::string_view pem, std::string_view name) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return key_error(name, openssl_error());
  // An empty passphrase callback: an encrypted key is an error here, never a prompt on a tty.
  auto no_pass = [](char*, int, int, void*) -> int { return -1; };
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_pass, nullptr);
  if (!raw) {
    ERR_clear_error();
    return key_error(
        name, "not a PEM private key (expected an unencrypted \"PRIVATE KEY\" or \"RSA PRIVATE KEY\")");
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = raw;
  switch (EVP_PKEY_get_base_id(raw)) {
    case EVP_PKEY_RSA:
      impl->algorithm = Algorithm::RsaSha256;
      impl->bits = static_cast<unsigned>(EVP_PKEY_get_bits(raw));
      if (impl->bits < kMinRsaBits)
        return key_error(name, "RSA key has " + std::to_string(impl->bits) + " bits; at least " +
                                   std::to_string(kMinRsaBits) + " are required");
      break;
    case EVP_PKEY_ED25519:
      impl->algorithm = Algorithm::Ed25519Sha256;
      impl->bits = 256;
      break;
    default: {
      const char* type = OBJ_nid2sn(EVP_PKEY_get_base_id(raw));
      return key_error(name, std::string("unsupported key type ") + (type ? type : "?") +
                                 " (DKIM signs with RSA or Ed25519 keys)");
    }
  }
  return DkimKey(std::move(impl));
}

Result<DkimKey> DkimKey::generate(Algorithm algorithm, unsigned bits) {
  ERR_clear_error();
  EVP_PKEY* raw = algorithm == Algorithm::RsaSha256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{bits})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) return make_error(ErrorKind::Io, "key generation failed: " + openssl_error());
  auto impl = std::make_shared<Impl>();
  impl->pkey = raw;
  impl->algorithm = algorithm;
  impl->bits = algorithm == Algorithm::RsaSha256 ? static_cast<unsigned>(EVP_PKEY_get_bits(raw)) : 256;
  if (algorithm == Algorithm::RsaSha256 && impl->bits < kMinRsaBits)
    return make_error(ErrorKind::Invalid, "RSA keys need at least " + std::to_string(kMinRsaBits) + " bits");
  return DkimKey(std::move(impl));
}

Algorithm DkimKey::algorithm() const { return impl_->algorithm; }
unsigned DkimKey::bits() const { return impl_->bits; }

Result<std::string> DkimKey::sign(std::string_view data) const {
  ERR_clear_error();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return make_error(ErrorKind::Io, "DKIM signing: " + openssl_error());
  std::string input;
  const EVP_MD* md = nullptr;
  if (impl_->algorithm == Algorithm::RsaSha256) {
    md = EVP_sha256();
    input = std::string(data);
  } else {
    // RFC 8463 §3: "the Ed25519 signature is computed over the SHA-256 hash of the data", with
    // PureEdDSA (EVP_DigestSign without a digest, in one shot).
    input = sha256(data);
    if (input.empty()) return make_error(ErrorKind::Io, "DKIM signing: SHA-256 failed: " + openssl_error());
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, impl_->pkey) != 1)
    return make_error(ErrorKind::Io, "DKIM signing: " + openssl_error());
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1)
    return make_error(ErrorKind::Io, "DKIM signing: " + openssl_error());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
    return make_error(ErrorKind::Io, "DKIM signing: " + openssl_error());
  sig.resize(len);
  return sig;
}

std::string DkimKey::private_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string DkimKey::public_key_base64() const {
  if (impl_->algorithm == Algorithm::Ed25519Sha256) {
    unsigned char raw[64];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(impl_->pkey, raw, &len) != 1) return {};
    return base64(std::string_view(reinterpret_cast<const char*>(raw), len));
  }
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(impl_->pkey, &der);
  if (len <= 0) return {};
  std::string out =
      base64(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

std::string DkimKey::dns_txt_value() const {
  return "v=DKIM1; k=" + std::string(key_type(impl_->algorithm)) + "; p=" + public_key_base64();
}

std::string dns_txt_record(std::string_view selector, std::string_view domain, std::string_view txt) {
  std::string out = std::string(selector) + "._domainkey." + std::string(domain) + ". IN TXT";
  for (std::size_t pos = 0; pos < txt.size() || pos == 0; pos += 255) {
    out += " \"";
    for (char c : txt.substr(pos, 255)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    if (txt.empty()) break;
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  failed_ = ctx_ == nullptr || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1;
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(std::string_view data) {
  if (!failed_ && !data.empty())
    failed_ = EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1;
}
std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (failed_ || EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len) != 1) return {};
  failed_ = true;  // finished: further use is an error
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace ferry::dkim
