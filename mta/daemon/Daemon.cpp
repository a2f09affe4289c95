// Daemon: opens and recovers the queue, starts the queue writer thread (group commit), binds the
// listeners (or adopts systemd's), drops privileges, then runs the io_context until SIGTERM/
// SIGINT. Shutdown is staged: stop accepting, let in-flight commits and deliveries finish
// (CommitBatcher::stop drains), then close the queue. SIGHUP reloads the configuration and TLS
// certificates; SIGUSR1 re-reads the queue. systemd hears READY / RELOADING / STOPPING /
// WATCHDOG (Type=notify). The queue's free space gates MAIL (backpressure, [queue] min_free).
#include "mta/daemon/Daemon.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "mta/daemon/ControlSocket.hpp"
#include "mta/daemon/DaemonQueue.hpp"
#include "mta/daemon/DeliveryAgent.hpp"
#include "mta/daemon/Log.hpp"
#include "mta/daemon/MaildropImport.hpp"
#include "mta/daemon/Metrics.hpp"
#include "mta/daemon/MetricsServer.hpp"
#include "mta/daemon/PasswordFile.hpp"
#include "mta/daemon/Resolver.hpp"
#include "mta/daemon/RouteRules.hpp"
#include "mta/daemon/SmtpServer.hpp"
#include "mta/daemon/SpaceGate.hpp"
#include "mta/daemon/Systemd.hpp"
#include "mta/daemon/TlsContext.hpp"
#include "mta/dkim/FromConfig.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::daemon {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

std::string system_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// What a configuration needs loaded from files: replaced as a whole on SIGHUP, or not at all.
struct Runtime {
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<delivery::RouteRule> routes;  // [[route]] with each AUTH password read
  std::shared_ptr<const PasswordFile> passwords;
  std::shared_ptr<const dkim::DkimSigner> dkim;
};

Result<Runtime> load_runtime(const config::Config& config, const std::string& hostname) {
  Runtime rt;
  auto tls = make_server_tls_context({config.tls.certificate, config.tls.key}, hostname);
  if (!tls) return make_error(tls.error().kind, "TLS: " + tls.error().message);
  rt.tls = *tls;
  auto routes = route_rules(config);
  if (!routes) return make_error(routes.error().kind, "configuration error: " + routes.error().message);
  rt.routes = std::move(*routes);
  if (!config.auth.password_file.empty()) {
    auto loaded = PasswordFile::load(config.auth.password_file);
    if (!loaded) return make_error(loaded.error().kind, "[auth] password_file: " + loaded.error().message);
    rt.passwords = std::make_shared<const PasswordFile>(std::move(*loaded));
  }
  // [[dkim]]: every key is loaded and test-signed now; a bad key is a configuration error.
  auto signer = dkim::DkimSigner::create(dkim::signing_entries(config));
  if (!signer) return make_error(signer.error().kind, "configuration error: " + signer.error().message);
  rt.dkim = std::make_shared<const dkim::DkimSigner>(std::move(*signer));
  return rt;
}

// Backpressure (Postfix's queue_minfree): the free space the queue must keep, on its filesystem
// and in the LMDB map. MAIL is refused with 452 4.3.1 below it; deliveries and bounces go on.
SpaceCheck check_space(const config::Config& cfg, const queue::QueueStore::Stats& st) {
  SpaceCheck c;
  struct statvfs vfs{};
  if (::statvfs(cfg.queue.path.c_str(), &vfs) == 0) {
    c.fs_free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    c.fs_size = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    const auto& mf = cfg.queue.min_free;
    // The filesystem keeps min_free, and at least room for 1.5 of the largest message.
    std::uint64_t need = mf.is_percent ? static_cast<std::uint64_t>(mf.percent / 100.0 * static_cast<double>(c.fs_size)) : mf.bytes;
    need = std::max<std::uint64_t>(need, cfg.smtp.max_message_size + cfg.smtp.max_message_size / 2);
    // LMDB's file never shrinks: pages freed inside it (the freelist) are room for new mail too.
    const std::uint64_t room = c.fs_free + st.map_free;
    if (room < need) {
      c.ok = false;
      c.why = "filesystem of " + cfg.queue.path + " has " + std::to_string(c.fs_free) + " bytes free (+" +
              std::to_string(st.map_free) + " free in the queue file), min_free is " + std::to_string(need);
    }
  }
  // The map: a percentage of the map size, or the byte value capped at a tenth of the map (a
  // byte value is sized for the filesystem). What does not fit fails its commit with 452 anyway.
  const auto& mf = cfg.queue.min_free;
  const std::uint64_t map_size = st.map_size;
  const std::uint64_t map_free = map_size - std::min<std::uint64_t>(map_size, st.map_used) + st.map_free;
  const std::uint64_t need = mf.is_percent ? static_cast<std::uint64_t>(mf.percent / 100.0 * static_cast<double>(map_size))
                                           : std::min<std::uint64_t>(mf.bytes, map_size / 10);
  if (c.ok && map_free < need) {
    c.ok = false;
    c.why = "LMDB map has " + std::to_string(map_free) + " of " + std::to_string(map_size) + " bytes free, min_free is " +
            std::to_string(need);
  }
  return c;
}

// Started as root outside systemd: bind first, then become the run user (as Postfix's daemons
// do). Nothing is chowned: the queue directory already belongs to that user (tmpfiles or the
// installer made it; open_daemon_queue checked it), and a recursive chown as root would follow
// the links that user can plant there.
Result<void> drop_privileges(const RunUser& user) {
  if (!user.drop) return {};
  if (auto done = become(user); !done) return done;
  log_info("dropped privileges to user " + user.name + " (uid " + std::to_string(user.uid) + ", gid " +
           std::to_string(user.gid) + ")");
  return {};
}

bool same_ip(const std::string& a, const std::string& b) {
  // "::ffff:127.0.0.1" (an IPv4 listener seen through an IPv6 socket) matches "127.0.0.1".
  auto strip = [](const std::string& s) { return s.starts_with("::ffff:") ? s.substr(7) : s; };
  return strip(a) == strip(b);
}

// Recipients whose attempts were cut short by crashes twice in a row: the message may be what
// kills the daemon, so recovery left them at their normal retry time. One line each.
void log_suspects(const queue::QueueStore& store, const std::vector<queue::DueRecipient>& suspects) {
  const TimeMs now = now_ms();
  for (const auto& s : suspects) {
    auto rec = store.load(s.id);
    if (!rec || s.index >= rec->recipients.size()) continue;
    const auto& r = rec->recipients[s.index];
    log_warning(s.id.str() + ": to=<" + rec->envelope.recipients[s.index].address + ">, status=suspect (" +
                std::to_string(r.interrupted) + " attempts in a row interrupted by a crash; next attempt in " +
                std::to_string(std::max<TimeMs>(0, s.due_ms - now) / 1000) + "s, at the normal retry time)");
  }
}

}  // namespace

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, signo);
  return set;
}

void hold_daemon_signals() {
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_daemon(const config::Config& config) { return run_daemon(config, std::nullopt); }

int run_daemon(const config::Config& initial, const std::optional<std::string>& config_path) {
  set_log_style(initial.log.format == config::LogFormat::Json ? LogStyle::Json : LogStyle::Text);
  // Every configuration ever active stays alive: connections keep a reference to the one they
  // started with (SIGHUP must not drop or break them).
  std::vector<std::unique_ptr<const config::Config>> configs;
  configs.push_back(std::make_unique<const config::Config>(initial));
  const config::Config* current = configs.back().get();
  const config::Config& config = *current;
  const std::string hostname = config::effective_hostname(config, system_host_name());

  auto opened = open_daemon_queue(config);
  if (!opened) {
    log_error(opened.error().message);
    // A missing account or a queue directory with the wrong owner is the operator's to fix:
    // EX_CONFIG, which the unit does not restart. Anything else may pass (EX_TEMPFAIL).
    return opened.error().kind == ErrorKind::Invalid ? 78 : 75;
  }
  auto& store = *opened->store;
  if (!config.queue.sync) log_warning("[queue] sync = false: accepted mail can be lost on a power cut");

  queue::RecoveryOptions recovery;
  recovery.after_crash_ms = config.retry.after_crash.count();
  auto recovered = store.recover(now_ms(), recovery);
  if (!recovered) {
    log_error("queue recovery failed: " + recovered.error().message);
    return 75;
  }
  log_info("queue " + config.queue.path + ": " + std::to_string(recovered->messages) + " messages, " +
           std::to_string(recovered->pending_recipients) + " pending recipients, " +
           std::to_string(recovered->unleased) + " attempts interrupted by the last stop, " +
           std::to_string(recovered->quarantined) + " records quarantined");
  log_suspects(store, recovered->suspects);

  auto runtime = load_runtime(config, hostname);
  if (!runtime) {
    log_error(runtime.error().message);
    return 78;  // EX_CONFIG
  }
  std::vector<std::shared_ptr<asio::ssl::context>> tls_contexts{runtime->tls};  // kept alive (reload)

  Metrics metrics;
  queue::CommitBatcher batcher(store);
  batcher.set_observer([&metrics](std::size_t batch, std::chrono::nanoseconds took) {
    metrics.observe_commit(batch, std::chrono::duration<double>(took).count());
  });
  boost::asio::io_context io(1);

  // Socket activation: adopt the descriptors systemd passed for our listeners (ferry.socket).
  std::vector<int> passed = systemd::take_listen_fds();
  std::map<std::size_t, int> inherited;
  std::optional<int> metrics_fd;
  for (int fd : passed) {
    auto bound = systemd::bound_address(fd);
    bool used = false;
    for (std::size_t i = 0; bound && i < config.listen.size() && !used; ++i)
      if (!inherited.count(i) && config.listen[i].port == bound->second && same_ip(config.listen[i].address, bound->first)) {
        inherited[i] = fd;
        used = true;
      }
    if (!used && bound && config.metrics.listen && config.metrics.listen->port == bound->second &&
        same_ip(config.metrics.listen->ip, bound->first) && !metrics_fd) {
      metrics_fd = fd;
      used = true;
    }
    if (!used) {
      log_warning("socket activation: passed descriptor " + std::to_string(fd) +
                  (bound ? " (" + bound->first + ":" + std::to_string(bound->second) + ")" : std::string()) +
                  " matches no [[listen]] entry; closing it");
      ::close(fd);
    }
  }
  if (!passed.empty()) log_info("socket activation: " + std::to_string(passed.size()) + " sockets passed by systemd");

  // Backpressure state: measured when MAIL asks (a "yes" is reused for 200 ms, a "no" never) and
  // every 2 s by a timer, so the log and the metric follow it without traffic.
  queue::QueueStore::Stats last_stats;
  SpaceGate space(
      [&]() -> std::optional<SpaceCheck> {
        auto st = store.stats();
        if (!st) return std::nullopt;
        last_stats = *st;
        return check_space(*current, *st);
      },
      [](const SpaceCheck& now) {
        if (!now.ok) log_warning("queue short of space: " + now.why + "; refusing new mail (452 4.3.1)");
        else log_info("queue has space again: accepting new mail");
      });
  auto refresh_space = [&] { space.refresh(SteadyClock::now()); };
  refresh_space();

  SmtpServerDeps deps;
  deps.config = current;
  deps.hostname = hostname;
  deps.store = &store;
  deps.batcher = &batcher;
  deps.tls = runtime->tls;
  deps.passwords = runtime->passwords;
  deps.dkim = runtime->dkim;
  deps.queue_has_space = [&] { return space.accepting(SteadyClock::now()); };
  deps.on_refused = [&metrics](std::string_view line) { metrics.count_rejection(line); };
  deps.inherited_sockets = inherited;
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

  // /metrics and /healthz. A port already taken is logged, not fatal: mail matters more.
  MetricsServer metrics_server(
      io, MetricsHandlers{
              [&]() -> std::string {
                MetricsGauges g;
                auto s = server.stats();
                g.connections_total = s.connections;
                g.messages_accepted = s.accepted_messages;
                g.inbound_active = s.active;
                if (agent) {
                  auto d = agent->stats();
                  g.delivered = d.delivered;
                  g.deferred = d.deferred;
                  g.bounced = d.bounced;
                  g.expired = d.expired;
                  g.reports = d.reports;
                  g.outbound_connections_total = d.connections;
                  g.outbound_active = d.active_connections;
                }
                space.accepting(SteadyClock::now());
                g.map_size = last_stats.map_size;
                g.map_used = last_stats.map_used;
                g.map_free = last_stats.map_free;
                g.fs_free = space.last().fs_free;
                g.fs_size = space.last().fs_size;
                g.accepting = space.last().ok;
                // Messages, recipients still to deliver and the oldest arrival: one read txn.
                const TimeMs now = now_ms();
                TimeMs oldest = now;
                auto scanned = store.for_each([&](const queue::MessageRecord& m) {
                  ++g.queue_messages;
                  oldest = std::min(oldest, m.envelope.arrival_ms);
                  for (const auto& r : m.recipients)
                    if (r.state == RecipientState::Pending || r.state == RecipientState::Held) ++g.queue_recipients;
                  return true;
                });
                g.queue_ok = static_cast<bool>(scanned);
                g.oldest_message_age_seconds = g.queue_messages ? static_cast<double>(now - oldest) / 1000.0 : 0.0;
                return metrics.render(g);
              },
              [&](std::function<void(bool, std::string)> done) {
                // Writable = the writer thread commits a (no-op) write transaction now.
                const bool accepting = space.last().ok;
                const std::string why = space.last().why;
                batcher.submit([](queue::WriteTxn&) { return Result<void>(); },
                               [done, accepting, why](Result<void> r) {
                                 if (!r) done(false, "queue not writable: " + r.error().message);
                                 else done(true, accepting ? "ok: queue writable, accepting mail"
                                                           : "ok: queue writable; refusing new mail: " + why);
                               });
              }});
  if (config.metrics.listen) {
    if (auto m = metrics_server.start(config.metrics.listen->ip, config.metrics.listen->port, metrics_fd); !m)
      log_warning("metrics: " + m.error().message + "; /metrics and /healthz are off");
    else
      log_info("metrics on http://" + config.metrics.listen->str().substr(0, config.metrics.listen->str().rfind(':')) +
               ":" + std::to_string(metrics_server.port()) + "/metrics");
  }

  if (auto dropped = drop_privileges(opened->user); !dropped) {
    log_error("cannot drop privileges to user " + opened->user.name + ": " + dropped.error().message);
    batcher.stop();
    return 71;
  }

  DeliveryDeps delivery;
  delivery.config = current;
  delivery.routes = runtime->routes;
  delivery.dkim = runtime->dkim;  // re-signs what it converts to 7 bits
  delivery.hostname = hostname;
  delivery.store = &store;
  delivery.batcher = &batcher;
  delivery.resolver = *resolver;
  delivery.on_delivered = [&metrics](double seconds) { metrics.observe_delivery_delay(seconds); };
  delivery.on_failed = [&metrics](bool bounced, std::string_view category) {
    metrics.count_delivery_failure(bounced, category);
  };
  const auto ports = server.ports();
  for (std::size_t i = 0; i < ports.size(); ++i) delivery.own_listeners.push_back({config.listen[i].address, ports[i]});
  agent = std::make_unique<DeliveryAgent>(io, delivery);
  if (auto started = agent->start(); !started) {
    log_error(started.error().message);
    batcher.stop();
    return 75;
  }

  // Local users' mail left in the maildrop by `ferry postdrop` while the daemon was down: taken
  // in now, when woken (SIGUSR1) and every 5 s (postdrop cannot signal a daemon of another user).
  std::shared_ptr<const dkim::DkimSigner> dkim_now = runtime->dkim;
  MaildropImport maildrop(MaildropDeps{config::effective_maildrop(config), hostname, [&]() -> const config::Config& { return *current; },
                                       [&] { return dkim_now; }, &store, &batcher, io.get_executor(),
                                       [&agent](const std::string& id) { agent->message_queued(QueueId::parse(id).value_or(QueueId{})); }});
  // `ferry queue flush|hold|release|delete` and sendmail say the queue changed: over the control
  // socket in the queue directory, or with SIGUSR1 sent to the pid-file lock's holder. Pick the
  // change up at once, as Postfix's qmgr does on its fifo.
  auto queue_changed = [&](const char* how) {
    log_info(std::string("queue changed (") + how + "): re-reading it and the maildrop");
    agent->queue_changed();
    maildrop.scan();
  };
  ControlSocket control(io, [&] { queue_changed("control socket"); });
  if (auto c = control.start(config.queue.path); !c)
    log_warning("control socket: " + c.error().message + "; ferry queue wakes the daemon with SIGUSR1 instead");

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
        systemd::notify_stopping();
        log_info(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
        metrics_server.stop();
        control.stop();
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

  // SIGHUP: reload. The new configuration must load and its TLS certificate, password file and
  // DKIM keys must load too, or nothing changes. Keys that need new sockets or another queue
  // are kept as they are (and the log says a restart applies them).
  boost::asio::signal_set hangups(io, SIGHUP);
  auto reload = [&] {
    systemd::notify_reloading();
    auto loaded = config::load_config(config_path);
    if (auto* err = std::get_if<config::ConfigError>(&loaded)) {
      log_error("reload refused: configuration error: " + err->str() + "; keeping the running configuration");
      metrics.count_reload(false);
      systemd::notify_ready("running; last reload failed (configuration error)");
      return;
    }
    config::Config next = std::get<config::Config>(std::move(loaded));
    auto keep = [&](bool changed, const char* what, auto apply) {
      if (!changed) return;
      log_warning(std::string("reload: ") + what + " changed: applied at the next restart");
      apply();
    };
    keep(next.listen != current->listen, "[[listen]]", [&] { next.listen = current->listen; });
    keep(next.queue.path != current->queue.path || next.queue.max_size != current->queue.max_size ||
             next.queue.sync != current->queue.sync || next.queue.maildrop != current->queue.maildrop,
         "[queue] path/max_size/sync/maildrop", [&] {
           next.queue.path = current->queue.path;
           next.queue.max_size = current->queue.max_size;
           next.queue.sync = current->queue.sync;
           next.queue.maildrop = current->queue.maildrop;
         });
    keep(next.metrics != current->metrics, "[metrics] listen", [&] { next.metrics = current->metrics; });
    keep(next.hostname != current->hostname, "hostname", [&] { next.hostname = current->hostname; });
    keep(next.user != current->user, "user", [&] { next.user = current->user; });
    keep(next.dns != current->dns, "[dns]", [&] { next.dns = current->dns; });
    // [delivery], [retry], [[route]] (passwords re-read) and [bounce] apply at once, through
    // DeliveryAgent::reconfigure below; deliveries in progress are not interrupted.
    auto rt = load_runtime(next, hostname);
    if (!rt) {
      log_error("reload refused: " + rt.error().message + "; keeping the running configuration");
      metrics.count_reload(false);
      systemd::notify_ready("running; last reload failed (" + rt.error().message + ")");
      return;
    }
    configs.push_back(std::make_unique<const config::Config>(std::move(next)));
    current = configs.back().get();
    tls_contexts.push_back(rt->tls);
    server.reconfigure(current, rt->tls, rt->passwords, rt->dkim);
    dkim_now = rt->dkim;
    if (agent) agent->reconfigure(current, std::move(rt->routes));
    if (agent) agent->set_dkim(rt->dkim);
    set_log_style(current->log.format == config::LogFormat::Json ? LogStyle::Json : LogStyle::Text);
    refresh_space();
    metrics.count_reload(true);
    log_info("reloaded configuration" + (config_path ? " from " + *config_path : std::string(" (embedded default)")) +
             " and TLS certificate");
    systemd::notify_ready("running; configuration reloaded");
  };
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload();
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);

  // SIGUSR1: the same from a client that could not reach the control socket.
  boost::asio::signal_set wakeups(io, SIGUSR1);
  std::function<void(const boost::system::error_code&, int)> on_wakeup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    queue_changed("SIGUSR1");
    wakeups.async_wait(on_wakeup);
  };
  wakeups.async_wait(on_wakeup);

  // Free space is re-checked every 2 s so the log and the metric follow it without traffic.
  asio::steady_timer space_timer(io);
  std::function<void(const boost::system::error_code&)> on_space_timer = [&](const boost::system::error_code& ec) {
    if (ec || signals_seen) return;
    refresh_space();
    space_timer.expires_after(std::chrono::seconds(2));
    space_timer.async_wait(on_space_timer);
  };
  space_timer.expires_after(std::chrono::seconds(2));
  space_timer.async_wait(on_space_timer);
  asio::steady_timer maildrop_timer(io);
  std::function<void(const boost::system::error_code&)> on_maildrop_timer = [&](const boost::system::error_code& ec) {
    if (ec || signals_seen) return;
    maildrop.scan();
    maildrop_timer.expires_after(std::chrono::seconds(5));
    maildrop_timer.async_wait(on_maildrop_timer);
  };
  on_maildrop_timer({});

  // WatchdogSec=: ping from the I/O thread, so a wedged event loop gets the service restarted.
  asio::steady_timer watchdog_timer(io);
  const auto watchdog = systemd::watchdog_ping_interval();
  std::function<void(const boost::system::error_code&)> on_watchdog = [&](const boost::system::error_code& ec) {
    if (ec) return;
    systemd::notify_watchdog();
    watchdog_timer.expires_after(*watchdog);
    watchdog_timer.async_wait(on_watchdog);
  };
  if (watchdog) {
    log_info("systemd watchdog: pinging every " + std::to_string(watchdog->count() / 1000) + " ms");
    on_watchdog({});
  }

  // Every handler exists now: let the held signals in (one sent while starting runs now).
  const sigset_t held = daemon_signals();
  pthread_sigmask(SIG_UNBLOCK, &held, nullptr);

  log_info("ready: hostname " + hostname + ", queue " + config.queue.path);
  systemd::notify_ready("accepting mail on " + std::to_string(ports.size()) + " listeners");
  io.run();
  batcher.stop();
  log_info("stopped");
  return 0;
}

}  // namespace ferry::daemon
