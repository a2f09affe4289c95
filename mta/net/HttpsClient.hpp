// HttpsClient: one HTTPS request (Boost.Beast over OpenSSL) to a named host at given addresses,
// with a verified certificate, one total deadline and a bounded body.
// Contract: the certificate must chain to the context's CAs and carry the host name (SNI and
// RFC 6125 check); no redirect is followed (a 3xx is returned as it is); the whole exchange ends
// by `timeout`; a body over `body_limit` is an error. Errors are values, never exceptions.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ferry::net {

struct HttpsRequest {
  std::string method = "GET";
  std::string host;                    // the name in SNI, Host: and the certificate check
  std::vector<std::string> addresses;  // IP addresses of `host`, tried in order
  std::uint16_t port = 443;
  std::string target = "/";
  std::string content_type;  // of `body`, when there is one (a POST)
  std::string body;
  // Extra header fields (a webhook's signature). Names and values must be free of CR, LF and
  // other control characters: a request carrying one is refused, never sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};  // the whole exchange, all addresses together
  std::size_t body_limit = 64 * 1024;
};

struct HttpsResponse {
  bool ok = false;      // a complete response was read (whatever its status)
  std::string error;    // why not, when !ok: connect, TLS (certificate), timeout, too large...
  unsigned status = 0;  // the HTTP status code
  std::string content_type;
  std::string body;
};

// Arguments are references the caller keeps alive until the await ends (no temporaries in
// co_await expressions: GCC 12). `tls` must be a verifying client context (make_client_tls_context(true,
// ...)).
boost::asio::awaitable<HttpsResponse> https_request(const boost::asio::any_io_executor& executor,
                                                    boost::asio::ssl::context& tls,
                                                    const HttpsRequest& request);

}  // namespace ferry::net
