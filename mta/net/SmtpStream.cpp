// SmtpStream: see SmtpStream.hpp.
#include "mta/net/SmtpStream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace ferry::net {

namespace asio = boost::asio;
using asio::awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// now + timeout without overflow: a "no limit" timeout (milliseconds::max()) stays in range.
SmtpStream::Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  const auto now = SmtpStream::Clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(SmtpStream::Clock::time_point::max() - now);
  return timeout >= room ? SmtpStream::Clock::time_point::max() : now + timeout;
}

}  // namespace

std::string SmtpStream::tls_summary() const {
  if (!tls_) return {};
  SSL* ssl = tls_->native_handle();
  return std::string(SSL_get_version(ssl)) + "/" + SSL_get_cipher_name(ssl);
}

void SmtpStream::arm(std::chrono::milliseconds timeout) {
  deadline_ = deadline_after(timeout);
  timed_out_ = false;
  shortened_ = false;
}

void SmtpStream::shorten(Clock::time_point earlier) {
  if (earlier >= deadline_) return;
  deadline_ = earlier;
  shortened_ = true;
  if (watchdog_timer_) watchdog_timer_->cancel();
}

// Cancels the socket's operations when the deadline passes; the guarded operation then fails.
awaitable<void> SmtpStream::watchdog() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  watchdog_timer_ = &timer;
  struct Forget {
    asio::steady_timer*& timer;
    ~Forget() { timer = nullptr; }
  } forget{watchdog_timer_};
  for (;;) {
    if (deadline_ <= Clock::now()) break;
    timer.expires_at(deadline_);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec != asio::error::operation_aborted) continue;
    // Aborted: either the guarded operation finished (the || cancels us) or shorten() moved the
    // deadline; only the first ends the watchdog.
    asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
  }
  timed_out_ = true;
  ErrorCode ignored;
  socket_.cancel(ignored);
}

template <typename Operation>
awaitable<void> SmtpStream::bounded(Operation operation, std::chrono::milliseconds timeout) {
  arm(timeout);
  co_await (operation() || watchdog());
}

awaitable<SmtpStream::ErrorCode> SmtpStream::connect(const asio::ip::tcp::endpoint& endpoint,
                                                     std::chrono::milliseconds timeout) {
  ErrorCode ec;
  co_await bounded(
      [&]() -> awaitable<void> { std::tie(ec) = co_await socket_.async_connect(endpoint, kNoThrow); },
      timeout);
  co_return timed_out_ ? ErrorCode(asio::error::timed_out) : ec;
}

awaitable<std::pair<SmtpStream::ErrorCode, std::size_t>> SmtpStream::read_some(
    asio::mutable_buffer buffer, std::chrono::milliseconds timeout) {
  ErrorCode ec;
  std::size_t n = 0;
  co_await bounded(
      [&]() -> awaitable<void> {
        if (tls_)
          std::tie(ec, n) = co_await tls_->async_read_some(buffer, kNoThrow);
        else
          std::tie(ec, n) = co_await socket_.async_read_some(buffer, kNoThrow);
      },
      timeout);
  if (timed_out_) co_return std::pair{ErrorCode(asio::error::timed_out), std::size_t{0}};
  co_return std::pair{ec, ec ? std::size_t{0} : n};
}

awaitable<SmtpStream::ErrorCode> SmtpStream::write(std::string_view bytes,
                                                   std::chrono::milliseconds timeout) {
  ErrorCode ec;
  co_await bounded(
      [&]() -> awaitable<void> {
        std::size_t n = 0;
        if (tls_)
          std::tie(ec, n) = co_await asio::async_write(*tls_, asio::buffer(bytes), kNoThrow);
        else
          std::tie(ec, n) = co_await asio::async_write(socket_, asio::buffer(bytes), kNoThrow);
      },
      timeout);
  co_return timed_out_ ? ErrorCode(asio::error::timed_out) : ec;
}

void SmtpStream::begin_tls(asio::ssl::context& context) {
  tls_ = std::make_unique<asio::ssl::stream<Socket&>>(socket_, context);
}

awaitable<SmtpStream::ErrorCode> SmtpStream::handshake(asio::ssl::stream_base::handshake_type side,
                                                       std::chrono::milliseconds timeout) {
  ErrorCode ec = asio::error::not_connected;
  if (!tls_) co_return ec;
  co_await bounded(
      [&]() -> awaitable<void> { std::tie(ec) = co_await tls_->async_handshake(side, kNoThrow); }, timeout);
  co_return timed_out_ ? ErrorCode(asio::error::timed_out) : ec;
}

awaitable<void> SmtpStream::shutdown_tls(std::chrono::milliseconds timeout) {
  if (!tls_) co_return;
  co_await bounded([&]() -> awaitable<void> { co_await tls_->async_shutdown(kNoThrow); }, timeout);
}

void SmtpStream::close() {
  ErrorCode ignored;
  socket_.close(ignored);
}

}  // namespace ferry::net
