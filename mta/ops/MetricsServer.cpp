// MetricsServer: see MetricsServer.hpp. One coroutine per connection, keep-alive as Prometheus
// expects, a 30 s idle deadline (beast::tcp_stream::expires_after) on every read and write.
#include "mta/ops/MetricsServer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include "mta/ops/Log.hpp"

namespace ferry::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  asio::io_context& io;
  MetricsHandlers handlers;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::set<beast::tcp_stream*> streams;
  std::uint16_t port = 0;
  bool stopped = false;

  Impl(asio::io_context& i, MetricsHandlers h) : io(i), handlers(std::move(h)) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
      if (ec) {
        if (stopped || !acceptor->is_open()) co_return;
        continue;
      }
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<std::pair<bool, std::string>> check_health() {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                            void(std::pair<bool, std::string>)>(
        [this](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          handlers.health([this, h](bool ok, std::string text) {
            asio::post(
                io, [h, ok, text = std::move(text)]() mutable { (*h)(std::make_pair(ok, std::move(text))); });
          });
        },
        asio::use_awaitable);
  }

  asio::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    streams.insert(&stream);
    struct Leave {
      Impl& s;
      beast::tcp_stream* p;
      ~Leave() { s.streams.erase(p); }
    } leave{*this, &stream};
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      stream.expires_after(std::chrono::seconds(30));
      auto [ec, n] = co_await http::async_read(stream, buffer, req, kNoThrow);
      if (ec) break;
      http::response<http::string_body> res;
      res.version(req.version());
      res.keep_alive(req.keep_alive());
      res.set(http::field::server, "ferry");
      const std::string target(req.target());
      const std::string path = target.substr(0, target.find('?'));
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.set(http::field::content_type, "text/plain");
        res.body() = "method not allowed\n";
      } else if (path == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = handlers.metrics();
      } else if (path == "/healthz") {
        auto [ok, text] = co_await check_health();
        res.result(ok ? http::status::ok : http::status::service_unavailable);
        res.set(http::field::content_type, "text/plain");
        res.body() = text + "\n";
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found: try /metrics or /healthz\n";
      }
      res.prepare_payload();
      if (req.method() == http::verb::head) res.body().clear();
      stream.expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
      if (wec || !res.keep_alive() || stopped) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

MetricsServer::MetricsServer(asio::io_context& io, MetricsHandlers handlers)
    : impl_(std::make_shared<Impl>(io, std::move(handlers))) {}

MetricsServer::~MetricsServer() { stop(); }

Result<void> MetricsServer::start(const std::string& ip, std::uint16_t port,
                                  std::optional<int> inherited_fd) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(ip, ec);
  if (ec) return make_error(ErrorKind::Invalid, "metrics address " + ip + ": " + ec.message());
  tcp::endpoint ep(address, port);
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  if (inherited_fd) {
    acceptor->assign(ep.protocol(), *inherited_fd, ec);
  } else {
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(64, ec);
  }
  if (ec)
    return make_error(ErrorKind::Io,
                      "cannot listen on " + ip + ":" + std::to_string(port) + ": " + ec.message());
  impl_->port = acceptor->local_endpoint(ec).port();
  impl_->acceptor = std::move(acceptor);
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  return {};
}

std::uint16_t MetricsServer::port() const { return impl_->port; }

void MetricsServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  for (auto* s : impl_->streams) s->socket().close(ec);
}

}  // namespace ferry::ops
