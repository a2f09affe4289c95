// Daemon: opens and recovers the queue, starts the queue writer thread (group commit), then
// runs the io_context until SIGTERM/SIGINT. Shutdown is staged: stop accepting, let in-flight
// commits finish (CommitBatcher::stop drains), then close the queue.
#include "mta/daemon/Daemon.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <memory>
#include <string>

#include "mta/daemon/DeliveryAgent.hpp"
#include "mta/daemon/Log.hpp"
#include "mta/daemon/PidFile.hpp"
#include "mta/daemon/Resolver.hpp"
#include "mta/daemon/PasswordFile.hpp"
#include "mta/daemon/SmtpServer.hpp"
#include "mta/daemon/TlsContext.hpp"
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

  auto tls = make_server_tls_context({config.tls.certificate, config.tls.key}, hostname);
  if (!tls) {
    log_error("TLS: " + tls.error().message);
    return 78;  // EX_CONFIG
  }
  std::shared_ptr<const PasswordFile> passwords;
  if (!config.auth.password_file.empty()) {
    auto loaded = PasswordFile::load(config.auth.password_file);
    if (!loaded) {
      log_error("[auth] password_file: " + loaded.error().message);
      return 78;
    }
    passwords = std::make_shared<const PasswordFile>(std::move(*loaded));
  }

  queue::CommitBatcher batcher(store);
  boost::asio::io_context io(1);
  SmtpServerDeps deps;
  deps.config = &config;
  deps.hostname = hostname;
  deps.store = &store;
  deps.batcher = &batcher;
  deps.tls = *tls;
  deps.passwords = passwords;
  ResolverOptions resolver_options;
  for (const auto& server : config.dns.servers) resolver_options.servers.push_back(server.str());
  auto resolver = Resolver::create(io.get_executor(), resolver_options);
  if (!resolver) {
    log_error("DNS: " + resolver.error().message);
    batcher.stop();
    return 78;
  }

  std::unique_ptr<DeliveryAgent> agent;
  deps.on_queued = [&agent](const std::string& id) {
    if (agent) agent->message_queued(QueueId::parse(id).value_or(QueueId{}));
  };
  SmtpServer server(io, deps);
  if (auto started = server.start(); !started) {
    log_error(started.error().message);
    batcher.stop();
    return 71;  // EX_OSERR: cannot bind
  }

  DeliveryDeps delivery;
  delivery.config = &config;
  delivery.hostname = hostname;
  delivery.store = &store;
  delivery.batcher = &batcher;
  delivery.resolver = *resolver;
  const auto ports = server.ports();
  for (std::size_t i = 0; i < ports.size(); ++i) delivery.own_listeners.push_back({config.listen[i].address, ports[i]});
  agent = std::make_unique<DeliveryAgent>(io, delivery);
  if (auto started = agent->start(); !started) {
    log_error(started.error().message);
    batcher.stop();
    return 75;
  }

  // SIGTERM/SIGINT: stage 1 stops accepting and lets transactions finish (bounded); a second
  // signal stops at once. Either way every commit already handed to the writer completes below.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  int signals_seen = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (++signals_seen > 1) {
          log_info("second signal: stopping now");
          io.stop();
          return;
        }
        log_info(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
        // Stop accepting and let sessions finish, then let deliveries finish, then stop.
        server.stop(std::chrono::seconds(10), [&] {
          agent->stop(std::chrono::seconds(10), [&] {
            (*resolver)->shutdown();
            io.stop();
          });
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  // SIGUSR1 from `ferry queue flush|hold|release|delete` (found through the pid file in the
  // queue directory): pick the change up at once, as Postfix's qmgr does on its fifo.
  boost::asio::signal_set wakeups(io, SIGUSR1);
  std::function<void(const boost::system::error_code&, int)> on_wakeup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    agent->queue_changed();
    wakeups.async_wait(on_wakeup);
  };
  wakeups.async_wait(on_wakeup);
  PidFile pid_file(options.path + "/ferry.pid");

  log_info("ready: hostname " + hostname + ", queue " + options.path);
  io.run();
  batcher.stop();
  log_info("stopped");
  return 0;
}

}  // namespace ferry::daemon
