// ClientTls: see ClientTls.hpp.
#include "mta/net/ClientTls.hpp"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

namespace ferry::net {

namespace asio = boost::asio;

Result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(bool verify, const std::string& ca_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (!verify) {
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ca_file, ec);
    const auto* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx->native_handle()));
    if (!ec && (objects == nullptr || sk_X509_OBJECT_num(objects) == 0))
      return make_error(ErrorKind::Invalid, "tls_ca_file " + ca_file + " holds no certificate");
  }
  if (ec) {
    const std::string what = ca_file.empty() ? std::string("the system CA store") : "tls_ca_file " + ca_file;
    return make_error(ErrorKind::Invalid, what + " cannot be loaded: " + ec.message());
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

Result<void> check_ca_file(const std::string& ca_file) {
  if (auto ctx = make_client_tls_context(true, ca_file); !ctx) return ctx.error();
  return {};
}

bool set_client_identity(SSL* ssl, const std::string& name, bool verify) {
  if (name.empty()) return !verify;
  SSL_set_tlsext_host_name(ssl, name.c_str());
  if (verify) {
    // No partial wildcards ("w*.example"): RFC 6125 §7.2 discourages them.
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, name.c_str()) != 1) return false;
  }
  return true;
}

Result<std::shared_ptr<asio::ssl::context>> make_client_dane_context() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (SSL_CTX_dane_enable(ctx->native_handle()) <= 0)
    return make_error(ErrorKind::Invalid, "OpenSSL cannot enable DANE on a TLS context");
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

bool set_dane(SSL* ssl, const std::string& host, const std::string& base_domain,
              const std::vector<dns::Tlsa>& records) {
  SSL_set_tlsext_host_name(ssl, host.c_str());
  if (SSL_dane_enable(ssl, host.c_str()) <= 0) return false;
  if (!base_domain.empty() && base_domain != host && SSL_add1_host(ssl, base_domain.c_str()) != 1)
    return false;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int added = 0;
  for (const auto& r : records) {
    const auto* data = reinterpret_cast<const unsigned char*>(r.data.data());
    // > 0 added, 0 an unusable record (ignored), < 0 an error.
    if (SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.mtype, data, r.data.size()) > 0) ++added;
  }
  return added > 0;
}

namespace {

// The bytes a TLSA record's selector and matching type name (RFC 6698 §2.1.2, §2.1.3).
std::string tlsa_digest(X509* cert, std::uint8_t selector, std::uint8_t mtype) {
  unsigned char* der = nullptr;
  const int len = selector == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return {};
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  if (mtype == 0) return bytes;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const EVP_MD* type = mtype == 1 ? EVP_sha256() : mtype == 2 ? EVP_sha512() : nullptr;
  if (!type || EVP_Digest(bytes.data(), bytes.size(), md, &md_len, type, nullptr) != 1) return {};
  return std::string(reinterpret_cast<char*>(md), md_len);
}

}  // namespace

std::string tlsa_match(SSL* ssl, const std::vector<dns::Tlsa>& records) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // on a client: the leaf first
  if (!leaf) return {};
  for (const auto& r : records) {
    if (r.usage == 3 && tlsa_digest(leaf, r.selector, r.mtype) == r.data) return "dane-ee";
    if (r.usage != 2 || !chain) continue;
    for (int i = 1; i < sk_X509_num(chain); ++i)
      if (tlsa_digest(sk_X509_value(chain, i), r.selector, r.mtype) == r.data) return "dane-ta";
  }
  return {};
}

std::string dane_match(SSL* ssl) {
  uint8_t usage = 0, selector = 0, mtype = 0;
  const unsigned char* data = nullptr;
  size_t len = 0;
  if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &len) < 0) return {};
  switch (usage) {
    case 2:
      return "dane-ta";
    case 3:
      return "dane-ee";
    default:
      return {};
  }
}

}  // namespace ferry::net
