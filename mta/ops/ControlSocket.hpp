// ControlSocket: `<queue>/control`, a UNIX socket on which the running daemon takes commands
// from `ferry queue` and sendmail ("wake": the queue changed, re-read it and the maildrop).
// Contract: reachable only by the queue's owner (the socket lives in the 0700 queue directory
// and is itself 0600); one short line per connection, answered "ok" or "error ...", bounded in
// size and time. Clients reach the daemon this way without a pid to signal.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "ferry/Result.hpp"

namespace ferry::ops {

// `<queue>/control` for the queue at `queue_path`.
std::string control_socket_path(const std::string& queue_path);

// Client side: sends `command` to the daemon on `queue_path` and waits (at most 5 s) for its
// answer. False when no daemon listens there or it did not say "ok".
bool send_control_command(const std::string& queue_path, const std::string& command);

class ControlSocket {
 public:
  using Handler = std::function<void()>;
  ControlSocket(boost::asio::io_context& io, Handler on_wake);
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Any other command line: true when it was understood (answered "ok"), false for "error".
  using CommandHandler = std::function<bool(std::string_view command)>;
  void set_command_handler(CommandHandler handler);

  // Binds `<queue>/control` (a stale socket from a crashed daemon is replaced: the pid-file lock
  // says no other daemon owns this queue) and starts accepting.
  Result<void> start(const std::string& queue_path);
  void stop();  // stops accepting and removes the socket

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ferry::ops
