// ClientTls: see ClientTls.hpp.
#include "mta/net/ClientTls.hpp"

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
