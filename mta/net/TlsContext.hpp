// TlsContext: the server-side OpenSSL context for STARTTLS and implicit TLS (RFC 3207, 8314).
// Contract: loads [tls] certificate/key, or generates a self-signed certificate for the host
// name when none is configured, so STARTTLS is always offered. Errors are returned, not thrown.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "ferry/Result.hpp"

namespace ferry::net {

struct TlsFiles {
  std::string certificate;  // PEM chain; empty = generate a self-signed one
  std::string key;          // PEM private key
};

Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const TlsFiles& files,
                                                                           const std::string& hostname);

}  // namespace ferry::net
