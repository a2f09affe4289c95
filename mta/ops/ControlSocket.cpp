// ControlSocket: see ControlSocket.hpp. Each connection gets 2 s to send one line of at most
// 64 bytes; anything else is answered with an error and closed.
#include "mta/ops/ControlSocket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "mta/ops/Log.hpp"

namespace ferry::ops {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {
constexpr std::size_t kMaxLine = 64;
}

std::string control_socket_path(const std::string& queue_path) { return queue_path + "/control"; }

bool send_control_command(const std::string& queue_path, const std::string& command) {
  const std::string path = control_socket_path(queue_path);
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string reply;
  const std::string line = command + "\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
    char buf[kMaxLine];
    for (ssize_t n; reply.find('\n') == std::string::npos && reply.size() < kMaxLine &&
                    (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply == "ok\n";
}

struct ControlSocket::Impl : std::enable_shared_from_this<ControlSocket::Impl> {
  asio::io_context& io;
  Handler on_wake;
  CommandHandler on_command;
  Local::acceptor acceptor;
  std::string path;
  Impl(asio::io_context& i, Handler h) : io(i), on_wake(std::move(h)), acceptor(i) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, Local::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) self->serve(std::make_shared<Local::socket>(std::move(socket)));
      self->accept();
    });
  }

  void serve(std::shared_ptr<Local::socket> socket) {
    auto buffer = std::make_shared<std::string>();
    auto deadline = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(2));
    deadline->async_wait([socket](boost::system::error_code ec) {
      if (!ec) socket->close();
    });
    asio::async_read_until(
        *socket, asio::dynamic_buffer(*buffer, kMaxLine), '\n',
        [self = shared_from_this(), socket, buffer, deadline](boost::system::error_code ec, std::size_t n) {
          deadline->cancel();
          if (ec) return;
          const std::string command = buffer->substr(0, n - 1);
          auto reply = std::make_shared<std::string>("ok\n");
          if (command == "wake")
            self->on_wake();
          else if (!self->on_command || !self->on_command(command))
            *reply = "error unknown command\n";
          asio::async_write(*socket, asio::buffer(*reply),
                            [socket, reply](boost::system::error_code, std::size_t) {});
        });
  }
};

ControlSocket::ControlSocket(asio::io_context& io, Handler on_wake)
    : impl_(std::make_shared<Impl>(io, std::move(on_wake))) {}

ControlSocket::~ControlSocket() { stop(); }

void ControlSocket::set_command_handler(CommandHandler handler) { impl_->on_command = std::move(handler); }

Result<void> ControlSocket::start(const std::string& queue_path) {
  impl_->path = control_socket_path(queue_path);
  if (impl_->path.size() >= sizeof(sockaddr_un{}.sun_path))
    return make_error(ErrorKind::Invalid, impl_->path + ": path too long for a UNIX socket");
  struct stat st {};
  if (::lstat(impl_->path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(impl_->path.c_str());
  boost::system::error_code ec;
  impl_->acceptor.open(Local(), ec);
  if (!ec) impl_->acceptor.bind(Local::endpoint(impl_->path), ec);
  // The queue directory (0700) already keeps everyone but its owner out; 0600 says so again.
  if (!ec && ::chmod(impl_->path.c_str(), 0600) != 0)
    ec = boost::system::error_code(errno, boost::system::system_category());
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) {
    impl_->acceptor.close();
    return make_error(ErrorKind::Io, impl_->path + ": " + ec.message());
  }
  impl_->accept();
  return {};
}

void ControlSocket::stop() {
  if (!impl_->acceptor.is_open()) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  ::unlink(impl_->path.c_str());
}

}  // namespace ferry::ops
