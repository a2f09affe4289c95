// HttpsPost: an https: URL and one POST to it (through HttpsClient), for TLS reports (RFC 8460 §5.2).
// Contract: the certificate must verify against the context's CAs for the URL's host name
// (RFC 6125), else nothing is sent; the whole exchange is bounded by the timeout; an answer body
// over 8 KiB is an error, so a server cannot make the client hold more.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/net/Resolver.hpp"

namespace ferry::net {

struct HttpsUrl {
  std::string host;  // a DNS name (lower-case) or an IPv4 literal
  std::uint16_t port = 443;
  std::string target;  // path and query, "/" at least
};
// "https://host[:port][/path]": nullopt for anything else (userinfo, IPv6 literals, bad ports).
std::optional<HttpsUrl> parse_https_url(std::string_view url);

// POSTs `body` to `url` and returns the HTTP status code. The arguments must outlive the wait.
boost::asio::awaitable<Result<int>> https_post(Resolver& resolver, boost::asio::any_io_executor executor,
                                               boost::asio::ssl::context& context, const HttpsUrl& url,
                                               const std::string& content_type, const std::string& body,
                                               std::chrono::milliseconds timeout);

// The same POST with extra header fields (HttpsRequest::headers: no control characters).
boost::asio::awaitable<Result<int>> https_post_with(
    Resolver& resolver, boost::asio::any_io_executor executor, boost::asio::ssl::context& context,
    const HttpsUrl& url, const std::string& content_type, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds timeout);

}  // namespace ferry::net
