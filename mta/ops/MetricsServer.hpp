// MetricsServer: the HTTP endpoint of [metrics] listen, served with Boost.Beast: GET /metrics
// (Prometheus text format 0.0.4) and GET /healthz (200 when the queue is writable, else 503).
// Contract: runs on the daemon's io_context; every read and write has a deadline; stop() closes
// the listener and every connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ferry/Result.hpp"

namespace ferry::ops {

struct MetricsHandlers {
  std::function<std::string()> metrics;  // the page for /metrics
  // Checks health asynchronously; calls `done(ok, text)` on the io_context.
  std::function<void(std::function<void(bool ok, std::string text)> done)> health;
};

class MetricsServer {
 public:
  MetricsServer(boost::asio::io_context& io, MetricsHandlers handlers);
  ~MetricsServer();
  // Binds ip:port, or adopts `inherited_fd` (socket activation) when given.
  Result<void> start(const std::string& ip, std::uint16_t port,
                     std::optional<int> inherited_fd = std::nullopt);
  std::uint16_t port() const;
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ferry::ops
