// HttpsPost: see HttpsPost.hpp.
#include "mta/net/HttpsPost.hpp"

#include "mta/net/HttpsClient.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "ferry/text/Ascii.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"

namespace ferry::net {

namespace asio = boost::asio;

std::optional<HttpsUrl> parse_https_url(std::string_view url) {
  if (!text::istarts_with(url, "https://")) return std::nullopt;
  std::string_view rest = url.substr(8);
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpsUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    unsigned v = 0;
    const auto p = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535)
      return std::nullopt;
    out.port = static_cast<std::uint16_t>(v);
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || authority.size() > 253) return std::nullopt;
  for (char c : authority)
    if (!(text::is_alnum(c) || c == '-' || c == '.')) return std::nullopt;  // no userinfo, no [v6]
  for (char c : out.target)
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
  out.host = text::to_lower(authority);
  return out;
}

namespace {

// The addresses of the URL's host: an IPv4 literal as it is, else every A/AAAA record.
asio::awaitable<Result<std::vector<std::string>>> addresses_of(Resolver& resolver,
                                                               asio::any_io_executor executor,
                                                               const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) co_return std::vector<std::string>{host};
  const AddressAnswer answer = co_await resolve_addresses(resolver, executor, host);
  if (answer.status != DnsStatus::Ok || answer.addresses.empty())
    co_return make_error(ErrorKind::Io,
                         "cannot resolve " + host + (answer.error.empty() ? "" : ": " + answer.error));
  co_return answer.addresses;
}

}  // namespace

// The request itself is net::https_request (HttpsClient), the one HTTPS client: verified
// certificate, one deadline, a bounded answer.
asio::awaitable<Result<int>> https_post(Resolver& resolver, asio::any_io_executor executor,
                                        asio::ssl::context& context, const HttpsUrl& url,
                                        const std::string& content_type, const std::string& body,
                                        std::chrono::milliseconds timeout) {
  const std::vector<std::pair<std::string, std::string>> none;
  Result<int> r =
      co_await https_post_with(resolver, executor, context, url, content_type, body, none, timeout);
  co_return r;
}

asio::awaitable<Result<int>> https_post_with(Resolver& resolver, asio::any_io_executor executor,
                                             asio::ssl::context& context, const HttpsUrl& url,
                                             const std::string& content_type, const std::string& body,
                                             const std::vector<std::pair<std::string, std::string>>& headers,
                                             std::chrono::milliseconds timeout) {
  Result<std::vector<std::string>> addresses = co_await addresses_of(resolver, executor, url.host);
  if (!addresses) co_return addresses.error();
  HttpsRequest request;
  request.method = "POST";
  request.host = url.host;
  request.addresses = std::move(*addresses);
  request.port = url.port;
  request.target = url.target;
  request.content_type = content_type;
  request.body = body;
  request.headers = headers;
  request.timeout = timeout;
  request.body_limit = 8 * 1024;  // the answer is not needed beyond its status
  const HttpsResponse response = co_await https_request(executor, context, request);
  if (!response.ok) co_return make_error(ErrorKind::Io, "POST to " + url.host + ": " + response.error);
  co_return static_cast<int>(response.status);
}

}  // namespace ferry::net
