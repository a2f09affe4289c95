// TlsContext: see TlsContext.hpp. TLS 1.2 is the floor (RFC 8996 deprecates older versions).
#include "mta/net/TlsContext.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace ferry::net {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};

// A P-256 key and a one-year self-signed certificate with CN and subjectAltName = hostname.
Result<std::pair<std::unique_ptr<EVP_PKEY, KeyFree>, std::unique_ptr<X509, CertFree>>> self_signed(
    const std::string& hostname) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return make_error(ErrorKind::Io, "generating a key: " + openssl_error());
  std::unique_ptr<X509, CertFree> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hostname.substr(0, 64);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + hostname;
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256()))
    return make_error(ErrorKind::Io, "signing the certificate: " + openssl_error());
  return std::make_pair(std::move(key), std::move(cert));
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const TlsFiles& files,
                                                                           const std::string& hostname) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  if (!files.certificate.empty() || !files.key.empty()) {
    if (files.certificate.empty() || files.key.empty())
      return make_error(ErrorKind::Invalid, "[tls] certificate and key must be given together");
    ctx->use_certificate_chain_file(files.certificate, ec);
    if (ec) return make_error(ErrorKind::Io, "loading " + files.certificate + ": " + ec.message());
    ctx->use_private_key_file(files.key, ssl::context::pem, ec);
    if (ec) return make_error(ErrorKind::Io, "loading " + files.key + ": " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1)
      return make_error(ErrorKind::Invalid, "[tls] key does not match the certificate: " + openssl_error());
    return ctx;
  }
  auto generated = self_signed(hostname.empty() ? "localhost" : hostname);
  if (!generated) return generated.error();
  if (SSL_CTX_use_certificate(native, generated->second.get()) != 1 ||
      SSL_CTX_use_PrivateKey(native, generated->first.get()) != 1)
    return make_error(ErrorKind::Io, "installing the self-signed certificate: " + openssl_error());
  return ctx;
}

}  // namespace ferry::net
