// HttpsPost: see HttpsPost.hpp.
#include "mta/net/HttpsPost.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <charconv>

#include "ferry/text/Ascii.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/SmtpStream.hpp"

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

// The status code of "HTTP/1.x NNN ...", or nullopt.
std::optional<int> status_of(std::string_view head) {
  if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return std::nullopt;
  int code = 0;
  auto [end, ec] = std::from_chars(head.data() + 9, head.data() + 12, code);
  if (ec != std::errc() || end != head.data() + 12) return std::nullopt;
  return code;
}

asio::awaitable<Result<std::string>> first_address(Resolver& resolver, asio::any_io_executor executor,
                                                   const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) co_return host;
  const AddressAnswer answer = co_await resolve_addresses(resolver, executor, host);
  if (answer.status != DnsStatus::Ok || answer.addresses.empty())
    co_return make_error(ErrorKind::Io,
                         "cannot resolve " + host + (answer.error.empty() ? "" : ": " + answer.error));
  co_return answer.addresses.front();
}

}  // namespace

asio::awaitable<Result<int>> https_post(Resolver& resolver, asio::any_io_executor executor,
                                        asio::ssl::context& context, const HttpsUrl& url,
                                        const std::string& content_type, const std::string& body,
                                        std::chrono::milliseconds timeout) {
  const Result<std::string> ip = co_await first_address(resolver, executor, url.host);
  if (!ip) co_return ip.error();
  SmtpStream stream(executor);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(*ip), url.port);
  auto fail = [&](const std::string& step, const boost::system::error_code& e) {
    return make_error(ErrorKind::Io, step + " " + url.host + "[" + *ip + "]:" + std::to_string(url.port) +
                                         ": " + (stream.timed_out() ? std::string("timeout") : e.message()));
  };
  boost::system::error_code ec = co_await stream.connect(endpoint, timeout);
  if (ec) co_return fail("connect to", ec);
  stream.begin_tls(context);
  if (!set_client_identity(stream.tls(), url.host, true))
    co_return make_error(ErrorKind::Security, "no name to verify " + url.host + " against");
  ec = co_await stream.handshake(asio::ssl::stream_base::client, timeout);
  if (ec) co_return fail("TLS handshake with", ec);  // includes a certificate that does not verify
  const std::string request =
      "POST " + url.target + " HTTP/1.1\r\nHost: " + url.host + "\r\nContent-Type: " + content_type +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  ec = co_await stream.write(request, timeout);
  if (ec) co_return fail("sending to", ec);
  std::string head;
  char buf[2048];
  while (head.find("\r\n") == std::string::npos && head.size() < 8192) {
    auto [rec, n] = co_await stream.read_some(asio::buffer(buf), timeout);
    if (rec) co_return fail("reading the answer of", rec);
    head.append(buf, n);
  }
  co_await stream.shutdown_tls(std::chrono::seconds(1));
  stream.close();
  const auto status = status_of(head);
  if (!status) co_return make_error(ErrorKind::Io, "no HTTP status line from " + url.host);
  co_return *status;
}

}  // namespace ferry::net
