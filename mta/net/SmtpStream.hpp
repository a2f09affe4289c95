// SmtpStream: one SMTP connection's bytes — a TCP socket, wrapped in TLS after STARTTLS or from
// the start (implicit TLS), every wait bounded by a deadline. The server, the delivery agent and
// `ferry probe` all talk through it.
// Contract: every operation returns its error instead of throwing; when the deadline passes the
// operation is cancelled and reports asio::error::timed_out (and timed_out() is true until the next
// operation). shorten() moves the deadline of the wait in progress earlier. Nothing here knows
// SMTP's rules: the sans-IO sessions decide what is read and written.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ferry::net {

class SmtpStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Clock = std::chrono::steady_clock;
  using ErrorCode = boost::system::error_code;

  explicit SmtpStream(Socket socket) : socket_(std::move(socket)) {}
  explicit SmtpStream(const boost::asio::any_io_executor& executor) : socket_(executor) {}
  SmtpStream(const SmtpStream&) = delete;
  SmtpStream& operator=(const SmtpStream&) = delete;

  // The plain socket, for what precedes the conversation: open, bind, socket options, endpoints.
  Socket& socket() { return socket_; }
  bool is_open() const { return socket_.is_open(); }
  bool timed_out() const { return timed_out_; }
  // The TLS session once begin_tls() ran (for SNI, verification settings, the certificate);
  // null while the connection is plaintext.
  SSL* tls() const { return tls_ ? tls_->native_handle() : nullptr; }
  // "TLSv1.3/TLS_AES_256_GCM_SHA384" once encrypted; empty while plaintext.
  std::string tls_summary() const;

  boost::asio::awaitable<ErrorCode> connect(const boost::asio::ip::tcp::endpoint& endpoint,
                                            std::chrono::milliseconds timeout);
  // Some bytes into `buffer`; the count is 0 with an error (asio::error::eof at the peer's close).
  boost::asio::awaitable<std::pair<ErrorCode, std::size_t>> read_some(boost::asio::mutable_buffer buffer,
                                                                      std::chrono::milliseconds timeout);
  // All of `bytes`, or an error.
  boost::asio::awaitable<ErrorCode> write(std::string_view bytes, std::chrono::milliseconds timeout);

  // Wraps the socket in TLS; settings on tls() (SNI, host check) go between this and handshake().
  void begin_tls(boost::asio::ssl::context& context);
  boost::asio::awaitable<ErrorCode> handshake(boost::asio::ssl::stream_base::handshake_type side,
                                              std::chrono::milliseconds timeout);
  // TLS close_notify, best effort (the peer may be gone already); a no-op while plaintext.
  boost::asio::awaitable<void> shutdown_tls(std::chrono::milliseconds timeout);

  // Brings the deadline of the wait in progress forward, as a server under stress does for its
  // idle clients; a later deadline than the current one changes nothing.
  void shorten(Clock::time_point earlier);
  // True when the last wait ended at a deadline that shorten() had brought forward.
  bool shortened() const { return shortened_; }
  Clock::time_point deadline() const { return deadline_; }

  void close();

 private:
  void arm(std::chrono::milliseconds timeout);
  // Runs `operation` against the deadline: whichever ends first cancels the other.
  template <typename Operation>
  boost::asio::awaitable<void> bounded(Operation operation, std::chrono::milliseconds timeout);
  boost::asio::awaitable<void> watchdog();

  Socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<Socket&>> tls_;
  Clock::time_point deadline_ = Clock::time_point::max();
  boost::asio::steady_timer* watchdog_timer_ = nullptr;  // the running watchdog's, for shorten()
  bool timed_out_ = false;
  bool shortened_ = false;
};

}  // namespace ferry::net
