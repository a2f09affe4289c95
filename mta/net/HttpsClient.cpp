// HttpsClient: see HttpsClient.hpp. Beast's tcp_stream carries the deadline: set once, it bounds
// every later operation, so the connects, the handshake, the write and the read share it.
#include "mta/net/HttpsClient.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "mta/net/ClientTls.hpp"

namespace ferry::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string describe(const boost::system::error_code& ec, const char* step) {
  if (ec == beast::error::timeout) return std::string("timeout (") + step + ")";
  return std::string(step) + ": " + ec.message();
}

// Connects to the first address that answers, before the shared deadline.
asio::awaitable<std::string> connect_any(Stream& stream, const HttpsRequest& req) {
  std::string last = "no address";
  for (const auto& text : req.addresses) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(text, ec);
    if (ec) continue;
    const asio::ip::tcp::endpoint endpoint(address, req.port);
    auto& tcp = beast::get_lowest_layer(stream);
    std::tie(ec) = co_await tcp.async_connect(endpoint, kNoThrow);
    if (!ec) co_return std::string();
    last = describe(ec, "connect") + " (" + text + ")";
    if (ec == beast::error::timeout) break;
    tcp.close();
  }
  co_return last;
}

http::request<http::string_body> make_request(const HttpsRequest& req) {
  http::request<http::string_body> r;
  r.method_string(req.method);
  r.target(req.target);
  r.version(11);
  r.set(http::field::host, req.host);
  r.set(http::field::user_agent, "ferry");
  r.set(http::field::connection, "close");
  if (!req.body.empty() || req.method == "POST") {
    if (!req.content_type.empty()) r.set(http::field::content_type, req.content_type);
    r.body() = req.body;
    r.prepare_payload();
  }
  for (const auto& [name, value] : req.headers) r.set(name, value);
  return r;
}

// A header field's name or value with a control character could split the request.
bool headers_are_clean(const HttpsRequest& req) {
  for (const auto& [name, value] : req.headers)
    for (const std::string* s : {&name, &value})
      for (char c : *s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// The exchange after the TCP connection: TLS with the name checked, the request, the response.
asio::awaitable<HttpsResponse> exchange(Stream& stream, const HttpsRequest& req) {
  HttpsResponse out;
  if (!set_client_identity(stream.native_handle(), req.host, true)) {
    out.error = "no host name to verify";
    co_return out;
  }
  auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (hs) {
    out.error = describe(hs, "TLS handshake");
    co_return out;
  }
  const auto request = make_request(req);
  auto [wec, written] = co_await http::async_write(stream, request, kNoThrow);
  if (wec) {
    out.error = describe(wec, "write");
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(req.body_limit);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  // A POST needs only the status: a server that closes without TLS close_notify after its header
  // (many do) has still answered. A GET's body is the policy itself and must arrive whole.
  const bool status_enough =
      req.method == "POST" && rec == asio::ssl::error::stream_truncated && parser.is_header_done();
  if (rec && !status_enough) {
    out.error = rec == http::error::body_limit
                    ? "the body is larger than " + std::to_string(req.body_limit) + " bytes"
                    : describe(rec, "read");
    co_return out;
  }
  auto& res = parser.get();
  out.ok = true;
  out.status = res.result_int();
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

asio::awaitable<HttpsResponse> https_request(const asio::any_io_executor& executor, asio::ssl::context& tls,
                                             const HttpsRequest& req) {
  HttpsResponse out;
  if (!headers_are_clean(req)) {
    out.error = "a header field holds a control character";
    co_return out;
  }
  Stream stream(executor, tls);
  beast::get_lowest_layer(stream).expires_after(req.timeout);
  out.error = co_await connect_any(stream, req);
  if (!out.error.empty()) co_return out;
  out = co_await exchange(stream, req);
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream).socket().close(ignored);
  co_return out;
}

}  // namespace ferry::net
