// Daemon: opens and recovers the queue, starts the queue writer thread (group commit), then
// runs the io_context until SIGTERM/SIGINT. Shutdown is staged: stop accepting, let in-flight
// commits finish (CommitBatcher::stop drains), then close the queue.
#include "mta/daemon/Daemon.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <string>

#include "mta/daemon/Log.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::daemon {
namespace {

std::string system_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

int run_daemon(const config::Config& config) {
  const std::string hostname = config::effective_hostname(config, system_host_name());

  queue::QueueOptions options;
  options.path = config.queue.path;
  options.map_size = config.queue.max_size;
  options.sync = config.queue.sync;
  auto opened = queue::QueueStore::open(options);
  if (!opened) {
    log_error("cannot open the queue at " + options.path + ": " + opened.error().message);
    return 75;  // EX_TEMPFAIL: the service manager may retry
  }
  auto& store = **opened;
  if (!config.queue.sync) log_warning("[queue] sync = false: accepted mail can be lost on a power cut");

  auto recovered = store.recover(now_ms());
  if (!recovered) {
    log_error("queue recovery failed: " + recovered.error().message);
    return 75;
  }
  log_info("queue " + options.path + ": " + std::to_string(recovered->messages) + " messages, " +
           std::to_string(recovered->pending_recipients) + " pending recipients, " +
           std::to_string(recovered->unleased) + " attempts interrupted by the last stop, " +
           std::to_string(recovered->quarantined) + " records quarantined");

  queue::CommitBatcher batcher(store);
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log_info(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    io.stop();
  });
  log_info("ready: hostname " + hostname + ", queue " + options.path);
  io.run();
  batcher.stop();
  log_info("stopped");
  return 0;
}

}  // namespace ferry::daemon
