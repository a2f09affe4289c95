// Daemon: the class that owns the queue, the writer thread (group commit), the listeners (bound,
// or adopted from systemd), the delivery agent, the metrics endpoint, the maildrop import and the
// control socket; run() is the boot order, then the io_context until SIGTERM/SIGINT. Shutdown is
// staged: stop accepting, let in-flight commits and deliveries finish (CommitBatcher::stop
// drains), then close the queue. SIGHUP reloads the configuration and TLS certificates; SIGUSR1
// and the control socket re-read the queue. Each signal set and timer is one coroutine. systemd
// hears READY / RELOADING / STOPPING / WATCHDOG (Type=notify). Free space gates MAIL.
#include "mta/daemon/Daemon.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "mta/cluster/ClusterStatus.hpp"
#include "mta/config/ConfigWarnings.hpp"
#include "mta/daemon/ClusterNode.hpp"
#include "mta/daemon/DaemonQueue.hpp"
#include "mta/daemon/RedisStsStore.hpp"
#include "mta/daemon/SharedPaceLimiter.hpp"
#include "mta/daemon/SuppressionFeed.hpp"
#include "mta/daemon/SuppressionService.hpp"
#include "mta/dkim/FromConfig.hpp"
#include "mta/inbound/HttpServer.hpp"
#include "mta/inbound/MaildropImport.hpp"
#include "mta/inbound/PasswordFile.hpp"
#include "mta/inbound/SmtpServer.hpp"
#include "mta/inbound/SpaceGate.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Resolver.hpp"
#include "mta/net/TlsContext.hpp"
#include "mta/ops/ControlSocket.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/Metrics.hpp"
#include "mta/ops/MetricsServer.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/ops/Systemd.hpp"
#include "mta/outbound/DeliveryAgent.hpp"
#include "mta/outbound/EventSinks.hpp"
#include "mta/outbound/TlsReporter.hpp"
#include "mta/policy/RouteRules.hpp"
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
  std::shared_ptr<const inbound::PasswordFile> passwords;
  std::shared_ptr<const dkim::DkimSigner> dkim;
  std::vector<std::shared_ptr<const inbound::TokenFile>> http_tokens;  // one per [[http]]
};

Result<Runtime> load_runtime(const config::Config& config, const std::string& hostname) {
  Runtime rt;
  auto tls = net::make_server_tls_context({config.tls.certificate, config.tls.key}, hostname);
  if (!tls) return make_error(tls.error().kind, "TLS: " + tls.error().message);
  rt.tls = *tls;
  auto routes = policy::route_rules(config, net::check_ca_file);
  if (!routes) return make_error(routes.error().kind, "configuration error: " + routes.error().message);
  rt.routes = std::move(*routes);
  // [mta_sts] ca_file: a file that cannot be loaded would defer every enforced domain later.
  if (!config.mta_sts.ca_file.empty())
    if (auto ca = net::check_ca_file(config.mta_sts.ca_file); !ca)
      return make_error(ErrorKind::Invalid, "configuration error: [mta_sts] " + ca.error().message);
  if (!config.auth.password_file.empty()) {
    auto loaded = inbound::PasswordFile::load(config.auth.password_file);
    if (!loaded) return make_error(loaded.error().kind, "[auth] password_file: " + loaded.error().message);
    rt.passwords = std::make_shared<const inbound::PasswordFile>(std::move(*loaded));
  }
  // [[dkim]]: every key is loaded and test-signed now; a bad key is a configuration error.
  auto signer = dkim::DkimSigner::create(dkim::signing_entries(config));
  if (!signer) return make_error(signer.error().kind, "configuration error: " + signer.error().message);
  rt.dkim = std::make_shared<const dkim::DkimSigner>(std::move(*signer));
  auto tokens = inbound::load_http_tokens(config);
  if (!tokens) return make_error(tokens.error().kind, "[[http]] token_file: " + tokens.error().message);
  rt.http_tokens = std::move(*tokens);
  return rt;
}

// Backpressure (Postfix's queue_minfree): the free space the queue must keep, on its filesystem
// and in the LMDB map. MAIL is refused with 452 4.3.1 below it; deliveries and bounces go on.
inbound::SpaceCheck check_space(const config::Config& cfg, const queue::QueueStore::Stats& st) {
  inbound::SpaceCheck c;
  struct statvfs vfs {};
  if (::statvfs(cfg.queue.path.c_str(), &vfs) == 0) {
    c.fs_free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    c.fs_size = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    const auto& mf = cfg.queue.min_free;
    // The filesystem keeps min_free, and at least room for 1.5 of the largest message.
    std::uint64_t need = mf.is_percent
                             ? static_cast<std::uint64_t>(mf.percent / 100.0 * static_cast<double>(c.fs_size))
                             : mf.bytes;
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
  const std::uint64_t need =
      mf.is_percent ? static_cast<std::uint64_t>(mf.percent / 100.0 * static_cast<double>(map_size))
                    : std::min<std::uint64_t>(mf.bytes, map_size / 10);
  if (c.ok && map_free < need) {
    c.ok = false;
    c.why = "LMDB map has " + std::to_string(map_free) + " of " + std::to_string(map_size) +
            " bytes free, min_free is " + std::to_string(need);
  }
  return c;
}

// Started as root outside systemd: bind first, then become the run user (as Postfix's daemons
// do). Nothing is chowned: the queue directory already belongs to that user (tmpfiles or the
// installer made it; open_daemon_queue checked it), and a recursive chown as root would follow
// the links that user can plant there.
Result<void> drop_privileges(const ops::RunUser& user) {
  if (!user.drop) return {};
  if (auto done = ops::become(user); !done) return done;
  ops::log_info("dropped privileges to user " + user.name + " (uid " + std::to_string(user.uid) + ", gid " +
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
    ops::log_warning(
        s.id.str() + ": to=<" + rec->envelope.recipients[s.index].address + ">, status=suspect (" +
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

namespace {

// Exit codes (sysexits.h), as systemd and init scripts read them.
enum ExitCode : int {
  kExitOk = 0,
  kExitOsErr = 71,     // cannot bind or drop privileges
  kExitTempFail = 75,  // the queue cannot open (another daemon holds it), recovery failed
  kExitConfig = 78,    // configuration, TLS, DNS set-up, missing run user, wrong queue owner
};

// Socket activation (ferry.socket): the descriptors systemd passed, matched to our listeners and
// the metrics endpoint by the address they are bound to; any other is closed.
struct AdoptedSockets {
  std::map<std::size_t, int> listeners;  // [[listen]] index -> descriptor
  std::optional<int> metrics;
};

AdoptedSockets adopt_sockets(const config::Config& config) {
  AdoptedSockets adopted;
  const std::vector<int> passed = ops::systemd::take_listen_fds();
  for (int fd : passed) {
    auto bound = ops::systemd::bound_address(fd);
    bool used = false;
    for (std::size_t i = 0; bound && i < config.listen.size() && !used; ++i)
      if (!adopted.listeners.count(i) && config.listen[i].port == bound->second &&
          same_ip(config.listen[i].address, bound->first)) {
        adopted.listeners[i] = fd;
        used = true;
      }
    if (!used && bound && config.metrics.listen && config.metrics.listen->port == bound->second &&
        same_ip(config.metrics.listen->ip, bound->first) && !adopted.metrics) {
      adopted.metrics = fd;
      used = true;
    }
    if (!used) {
      ops::log_warning(
          "socket activation: passed descriptor " + std::to_string(fd) +
          (bound ? " (" + bound->first + ":" + std::to_string(bound->second) + ")" : std::string()) +
          " matches no [[listen]] entry; closing it");
      ::close(fd);
    }
  }
  if (!passed.empty())
    ops::log_info("socket activation: " + std::to_string(passed.size()) + " sockets passed by systemd");
  return adopted;
}

// Keys a reload cannot apply (they need new sockets, another queue or another user) keep their
// running values in `next`; the log says a restart applies them.
void keep_restart_only_keys(config::Config& next, const config::Config& running) {
  auto keep = [&](bool changed, const char* what, auto apply) {
    if (!changed) return;
    ops::log_warning(std::string("reload: ") + what + " changed: applied at the next restart");
    apply();
  };
  keep(next.listen != running.listen, "[[listen]]", [&] { next.listen = running.listen; });
  keep(next.queue.path != running.queue.path || next.queue.max_size != running.queue.max_size ||
           next.queue.sync != running.queue.sync || next.queue.maildrop != running.queue.maildrop,
       "[queue] path/max_size/sync/maildrop", [&] {
         next.queue.path = running.queue.path;
         next.queue.max_size = running.queue.max_size;
         next.queue.sync = running.queue.sync;
         next.queue.maildrop = running.queue.maildrop;
       });
  keep(next.metrics != running.metrics, "[metrics] listen", [&] { next.metrics = running.metrics; });
  keep(next.events != running.events || next.queue.events_retain != running.queue.events_retain,
       "[[events]] / [queue] events_retain", [&] {
         next.events = running.events;
         next.queue.events_retain = running.queue.events_retain;
       });
  keep(next.hostname != running.hostname, "hostname", [&] { next.hostname = running.hostname; });
  keep(next.user != running.user, "user", [&] { next.user = running.user; });
  keep(next.dns != running.dns, "[dns]", [&] { next.dns = running.dns; });
  // The Redis link and its heartbeat were built from the running [cluster] (password included).
  keep(next.cluster != running.cluster, "[cluster]", [&] { next.cluster = running.cluster; });
  auto http_addresses = [](const config::Config& c) {
    std::vector<config::SocketAddress> out;
    for (const auto& h : c.http) out.push_back(h.listen);
    return out;
  };
  keep(http_addresses(next) != http_addresses(running), "[[http]] listen", [&] { next.http = running.http; });
}

// Waits for `signals` for ever, calling `on` for each (one I/O-thread coroutine per signal set).
asio::awaitable<void> signal_loop(asio::signal_set& signals, std::function<void(int)> on) {
  for (;;) {
    auto [ec, signo] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    on(signo);
  }
}

// Calls `tick` every `period` (first after one period) while it returns true.
asio::awaitable<void> timer_loop(asio::steady_timer& timer, SteadyClock::duration period,
                                 std::function<bool()> tick) {
  for (;;) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || !tick()) co_return;
  }
}

// The running daemon: owns the queue, the writer thread, the listeners, the delivery agent and
// the operator's endpoints. run() is the boot order; the members are declared in the order they
// must be destroyed in reverse (the queue last, after every user of it).
class Daemon {
 public:
  Daemon(const config::Config& initial, std::optional<std::string> config_path)
      : config_path_(std::move(config_path)),
        space_([this] { return measure_space(); },
               [](const inbound::SpaceCheck& now) {
                 if (!now.ok)
                   ops::log_warning("queue short of space: " + now.why + "; refusing new mail (452 4.3.1)");
                 else
                   ops::log_info("queue has space again: accepting new mail");
               }) {
    // Every configuration ever active stays alive: connections keep a reference to the one they
    // started with (SIGHUP must not drop or break them).
    configs_.push_back(std::make_unique<const config::Config>(initial));
    current_ = configs_.back().get();
    hostname_ = config::effective_hostname(initial, system_host_name());
  }

  int run() {
    // Once, at start: a configuration that runs but refuses root's mail should say so.
    for (const auto& w : config::config_warnings(*current_, system_host_name())) ops::log_warning(w);
    if (auto failed = open_queue()) return *failed;
    if (auto failed = load_files()) return *failed;
    if (auto failed = load_event_sinks()) return *failed;
    if (auto failed = start_cluster()) return *failed;
    if (auto failed = start_server()) return *failed;
    if (auto failed = start_http_server()) return *failed;
    start_metrics_server();
    if (auto dropped = drop_privileges(queue_->user); !dropped) {
      ops::log_error("cannot drop privileges to user " + queue_->user.name + ": " + dropped.error().message);
      return kExitOsErr;
    }
    if (auto failed = start_delivery()) return *failed;
    start_suppression_feed();
    start_local_wakeups();
    start_loops();
    // Every handler exists now: let the held signals in (one sent while starting runs now).
    const sigset_t held = daemon_signals();
    pthread_sigmask(SIG_UNBLOCK, &held, nullptr);
    ops::log_info("ready: hostname " + hostname_ + ", queue " + current_->queue.path);
    ops::systemd::notify_ready("accepting mail on " + std::to_string(server_->ports().size()) + " listeners");
    io_.run();
    if (cluster_) cluster_->stop();
    if (feed_) feed_->stop();  // before the writer stops: its last batch commits
    batcher_->stop();          // every commit already handed to the writer completes
    ops::log_info("stopped");
    return kExitOk;
  }

 private:
  // The queue: checked, opened as its owner, locked, recovered; the writer thread started.
  std::optional<int> open_queue() {
    const config::Config& config = *current_;
    auto opened = open_daemon_queue(config);
    if (!opened) {
      ops::log_error(opened.error().message);
      // A missing account or a queue directory with the wrong owner is the operator's to fix:
      // EX_CONFIG, which the unit does not restart. Anything else may pass (EX_TEMPFAIL).
      return opened.error().kind == ErrorKind::Invalid ? kExitConfig : kExitTempFail;
    }
    queue_ = std::move(*opened);
    store_ = queue_->store.get();
    if (!config.queue.sync)
      ops::log_warning("[queue] sync = false: accepted mail can be lost on a power cut");
    queue::RecoveryOptions recovery;
    recovery.after_crash_ms = config.retry.after_crash.count();
    auto recovered = store_->recover(now_ms(), recovery);
    if (!recovered) {
      ops::log_error("queue recovery failed: " + recovered.error().message);
      return kExitTempFail;
    }
    ops::log_info("queue " + config.queue.path + ": " + std::to_string(recovered->messages) + " messages, " +
                  std::to_string(recovered->pending_recipients) + " pending recipients, " +
                  std::to_string(recovered->unleased) + " attempts interrupted by the last stop, " +
                  std::to_string(recovered->quarantined) + " records quarantined");
    log_suspects(*store_, recovered->suspects);
    batcher_ = std::make_unique<queue::CommitBatcher>(*store_);
    batcher_->set_observer([this](std::size_t batch, std::chrono::nanoseconds took) {
      metrics_.observe_commit(batch, std::chrono::duration<double>(took).count());
    });
    return std::nullopt;
  }

  // TLS certificate, password file, route passwords, DKIM keys; the resolver.
  std::optional<int> load_files() {
    auto runtime = load_runtime(*current_, hostname_);
    if (!runtime) {
      ops::log_error(runtime.error().message);
      return kExitConfig;
    }
    runtime_ = std::move(*runtime);
    tls_contexts_.push_back(runtime_->tls);  // kept alive (reload)
    dkim_now_ = runtime_->dkim;
    net::ResolverOptions options;
    for (const auto& server : current_->dns.servers) options.servers.push_back(server.str());
    options.trust_ad = current_->dns.trust_ad;
    auto resolver = net::Resolver::create(io_.get_executor(), options);
    if (!resolver) {
      ops::log_error("DNS: " + resolver.error().message);
      return kExitConfig;
    }
    resolver_ = *resolver;
    return std::nullopt;
  }

  // [[events]]: the webhooks' secrets and CA files are read now, before privileges are dropped.
  std::optional<int> load_event_sinks() {
    events_ = std::make_unique<outbound::EventSinks>(
        io_, outbound::EventSinksDeps{current_, store_, batcher_.get(), resolver_, [] { return now_ms(); },
                                      [this] { return !space_.last().ok; }});
    if (auto loaded = events_->load(); !loaded) {
      ops::log_error(loaded.error().message);
      return kExitConfig;
    }
    return std::nullopt;
  }

  // [cluster]: the password is read now, before privileges drop; the link connects on its own
  // thread and mail never waits for it.
  std::optional<int> start_cluster() {
    if (!current_->cluster) return std::nullopt;
    const auto& c = *current_->cluster;
    std::string password;
    if (!c.password_file.empty()) {
      auto read = cluster::read_redis_password(c.password_file);
      if (!read) {
        ops::log_error("[cluster] " + read.error().message);
        return kExitConfig;
      }
      password = std::move(*read);
    }
    cluster_password_ = password;  // the suppression feed's connection, started later
    cluster_ = std::make_unique<ClusterNode>(io_, c, config::effective_node_name(c, system_host_name()),
                                             std::move(password), [this] { return node_figures(); });
    cluster_->start();
    return std::nullopt;
  }

  // With [cluster]: other nodes' suppression entries come in (as the run user: the cursor file
  // in the queue directory belongs to it).
  void start_suppression_feed() {
    if (!cluster_) return;
    feed_ = std::make_unique<SuppressionFeed>(*batcher_, *current_->cluster, cluster_password_,
                                              cluster_->node_name(),
                                              current_->queue.path + "/cluster-suppression");
    feed_->start();
  }

  // The heartbeat's figures: the queue's messages and pending recipients, deliveries so far.
  NodeFigures node_figures() {
    NodeFigures f;
    if (auto counts = store_->counts()) {
      f.queue_messages = counts->messages;
      f.queue_recipients = counts->pending_recipients;
    }
    if (agent_) f.delivered_total = agent_->stats().delivered;
    return f;
  }

  // The SMTP listeners (bound now, as root when started so), with the free-space gate.
  std::optional<int> start_server() {
    adopted_ = adopt_sockets(*current_);
    space_.refresh(SteadyClock::now());
    inbound::SmtpServerDeps deps;
    deps.config = current_;
    deps.hostname = hostname_;
    deps.store = store_;
    deps.batcher = batcher_.get();
    deps.tls = runtime_->tls;
    deps.passwords = runtime_->passwords;
    deps.dkim = runtime_->dkim;
    deps.queue_has_space = [this] { return space_.accepting(SteadyClock::now()); };
    deps.on_refused = [this](std::string_view line) { metrics_.count_rejection(line); };
    deps.on_queued = [this](QueueId id) { message_queued(id); };
    deps.inherited_sockets = adopted_.listeners;
    suppression_ = std::make_unique<SuppressionService>(*store_, *batcher_, metrics_, *current_);
    deps.recipient_refusal = suppression_->recipient_refusal();
    server_ = std::make_unique<inbound::SmtpServer>(io_, deps);
    if (auto started = server_->start(); !started) {
      ops::log_error(started.error().message);
      return kExitOsErr;
    }
    return std::nullopt;
  }

  // [[http]]: submission for applications, through the same queue writer and free-space gate.
  std::optional<int> start_http_server() {
    if (current_->http.empty()) return std::nullopt;
    inbound::HttpServerDeps deps;
    deps.config = current_;
    deps.hostname = hostname_;
    deps.store = store_;
    deps.batcher = batcher_.get();
    deps.dkim = runtime_->dkim;
    deps.tokens = runtime_->http_tokens;
    deps.queue_has_space = [this] { return space_.accepting(SteadyClock::now()); };
    deps.on_queued = [this](QueueId id) { message_queued(id); };
    // The suppression list protects HTTP submissions as it does SMTP ones ([suppression]
    // enabled, read at each request so a reload applies).
    deps.recipient_refusal = [this, refusal = suppression_->recipient_refusal()](
                                 std::string_view address) -> std::optional<std::string> {
      if (!current_->suppression.enabled) return std::nullopt;
      return refusal(address);
    };
    http_server_ = std::make_unique<inbound::HttpServer>(io_, deps);
    if (auto started = http_server_->start(); !started) {
      ops::log_error(started.error().message);
      return kExitOsErr;
    }
    return std::nullopt;
  }

  // /metrics and /healthz. A port already taken is logged, not fatal: mail matters more.
  void start_metrics_server() {
    metrics_server_ = std::make_unique<ops::MetricsServer>(
        io_, ops::MetricsHandlers{
                 [this] { return render_metrics(); },
                 [this](std::function<void(bool, std::string)> done) { check_health(std::move(done)); }});
    const auto& listen = current_->metrics.listen;
    if (!listen) return;
    if (auto m = metrics_server_->start(listen->ip, listen->port, adopted_.metrics); !m)
      ops::log_warning("metrics: " + m.error().message + "; /metrics and /healthz are off");
    else
      ops::log_info("metrics on http://" + listen->str().substr(0, listen->str().rfind(':')) + ":" +
                    std::to_string(metrics_server_->port()) + "/metrics");
  }

  std::optional<int> start_delivery() {
    outbound::DeliveryDeps delivery;
    delivery.config = current_;
    delivery.routes = runtime_->routes;
    delivery.dkim = runtime_->dkim;  // re-signs what it converts to 7 bits
    delivery.hostname = hostname_;
    delivery.store = store_;
    delivery.batcher = batcher_.get();
    delivery.resolver = resolver_;
    delivery.on_delivered = [this](double seconds) { metrics_.observe_delivery_delay(seconds); };
    delivery.on_failed = [this](bool bounced, std::string_view category) {
      metrics_.count_delivery_failure(bounced, category);
    };
    delivery.suppression = suppression_->lookup();
    delivery.on_suppressed = [this] { metrics_.count_suppressed(false); };
    if (cluster_)
      delivery.on_suppressions_recorded = [this](const std::vector<SuppressionEntry>& entries) {
        std::vector<cluster::SuppressionEvent> events;
        for (const auto& e : entries) events.push_back({{}, false, e});
        cluster_->publish(std::move(events));
      };
    if (cluster_) delivery.pace_limiter = shared_pacing();
    if (cluster_)  // MTA-STS policies fetched by one node serve all
      delivery.shared_sts =
          std::make_shared<RedisStsStore>(cluster_->link(), io_.get_executor(), cluster_->node_name());
    const auto ports = server_->ports();
    for (std::size_t i = 0; i < ports.size(); ++i)
      delivery.own_listeners.push_back({current_->listen[i].address, ports[i]});
    start_tls_reports(delivery);
    agent_ = std::make_unique<outbound::DeliveryAgent>(io_, delivery);
    if (auto started = agent_->start(); !started) {
      ops::log_error(started.error().message);
      return kExitTempFail;
    }
    return std::nullopt;
  }

  // With [cluster], [[pace]] tokens, connection slots and back-offs are the fleet's, in Redis.
  std::function<std::unique_ptr<delivery::PaceLimiter>(std::function<void()>)> shared_pacing() {
    const config::ClusterSection& c = *current_->cluster;
    SharedPaceOptions options{cluster_->node_name(), c.expected_nodes,
                              std::chrono::duration_cast<std::chrono::milliseconds>(c.lease).count(),
                              std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout).count()};
    return [this, options](std::function<void()> wake) -> std::unique_ptr<delivery::PaceLimiter> {
      return std::make_unique<SharedPaceLimiter>(cluster_->link(), io_.get_executor(), options,
                                                 std::move(wake));
    };
  }

  // SMTP TLS Reporting (RFC 8460): the agent's TLS outcomes are counted (while [tls_report] is
  // enabled) and reported once a day; `ferry tlsrpt send` asks for a day's reports at once.
  void start_tls_reports(outbound::DeliveryDeps& delivery) {
    tlsrpt_ = std::make_unique<outbound::TlsReporter>(
        io_,
        outbound::TlsReporterDeps{[this] { return current_; }, hostname_, store_, batcher_.get(), resolver_,
                                  [this](QueueId id) { message_queued(id); }, [] { return now_ms(); }});
    delivery.on_tls_outcome = [this](const delivery::TlsOutcome& outcome) { tlsrpt_->record(outcome); };
  }

  // A control-socket command other than "wake": "tlsrpt-send YYYY-MM-DD".
  bool control_command(std::string_view command) {
    constexpr std::string_view kSend = "tlsrpt-send ";
    if (!command.starts_with(kSend) || !tlsrpt_) return false;
    const auto day = delivery::parse_day(command.substr(kSend.size()));
    if (!day) return false;
    ops::log_info("tlsrpt: sending the reports of " + delivery::day_text(*day) + " (control socket)");
    asio::co_spawn(io_, tlsrpt_->send_day(*day), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    return true;
  }

  // Local users' mail left in the maildrop by `ferry postdrop` while the daemon was down, and
  // the control socket through which `ferry queue flush|hold|release|delete` and sendmail say the
  // queue changed (SIGUSR1 to the pid-file lock's holder is the fallback).
  void start_local_wakeups() {
    maildrop_ = std::make_unique<inbound::MaildropImport>(inbound::MaildropDeps{
        config::effective_maildrop(*current_), hostname_,
        [this]() -> const config::Config& { return *current_; }, [this] { return dkim_now_; }, store_,
        batcher_.get(), io_.get_executor(), [this](QueueId id) { message_queued(id); }});
    control_ = std::make_unique<ops::ControlSocket>(io_, [this] { queue_changed("control socket"); });
    control_->set_command_handler([this](std::string_view command) { return control_command(command); });
    if (auto c = control_->start(current_->queue.path); !c)
      ops::log_warning("control socket: " + c.error().message +
                       "; ferry queue wakes the daemon with SIGUSR1 instead");
  }

  // One coroutine per signal set and per timer.
  void start_loops() {
    // An exception escapes io_.run(), as it would from a plain handler: never swallowed.
    auto spawn = [this](asio::awaitable<void> loop) {
      asio::co_spawn(io_, std::move(loop), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    };
    spawn(signal_loop(stop_signals_, [this](int signo) { on_stop_signal(signo); }));
    spawn(signal_loop(hangups_, [this](int) { reload(); }));
    spawn(signal_loop(wakeups_, [this](int) { queue_changed("SIGUSR1"); }));
    spawn(tlsrpt_->run());  // ends at the first stop signal, after a last flush
    for (auto& loop : events_->loops()) spawn(std::move(loop));  // end at the first stop signal
    // Free space is re-checked every 2 s so the log and the metric follow it without traffic;
    // the maildrop is scanned at start and every 5 s (postdrop cannot signal another user's
    // daemon). Both end at the first stop signal.
    spawn(timer_loop(space_timer_, std::chrono::seconds(2), [this] {
      if (signals_seen_) return false;
      space_.refresh(SteadyClock::now());
      return true;
    }));
    // Expired suppression entries are deleted at start and every 10 minutes (they already
    // refuse nothing; this keeps the table from growing without bound).
    suppression_->purge();
    spawn(timer_loop(suppression_timer_, std::chrono::minutes(10), [this] {
      if (signals_seen_) return false;
      suppression_->purge();
      return true;
    }));
    maildrop_->scan();
    spawn(timer_loop(maildrop_timer_, std::chrono::seconds(5), [this] {
      if (signals_seen_) return false;
      maildrop_->scan();
      return true;
    }));
    // WatchdogSec=: ping from the I/O thread, so a wedged event loop gets the service restarted.
    if (const auto watchdog = ops::systemd::watchdog_ping_interval()) {
      ops::log_info("systemd watchdog: pinging every " + std::to_string(watchdog->count() / 1000) + " ms");
      ops::systemd::notify_watchdog();
      spawn(timer_loop(watchdog_timer_, *watchdog, [] {
        ops::systemd::notify_watchdog();
        return true;
      }));
    }
  }

  void message_queued(QueueId id) {
    if (agent_) agent_->message_queued(id);
  }

  // Pick a change to the queue up at once, as Postfix's qmgr does on its fifo.
  void queue_changed(const char* how) {
    ops::log_info(std::string("queue changed (") + how + "): re-reading it and the maildrop");
    agent_->queue_changed();
    maildrop_->scan();
  }

  // SIGTERM/SIGINT: the first stops accepting and lets sessions, then deliveries finish
  // (bounded); a second stops at once. Either way every commit already handed to the writer
  // completes after io_.run() returns.
  void on_stop_signal(int signo) {
    if (++signals_seen_ > 1) {
      ops::log_info("second signal: stopping now");
      io_.stop();
      return;
    }
    ops::systemd::notify_stopping();
    ops::log_info(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    metrics_server_->stop();
    if (http_server_) http_server_->stop();
    control_->stop();
    tlsrpt_->stop();
    events_->stop();
    server_->stop(std::chrono::seconds(10), [this] {
      agent_->stop(std::chrono::seconds(10), [this] {
        resolver_->shutdown();
        io_.stop();
      });
    });
  }

  // SIGHUP: the new configuration must load and its TLS certificate, password file and DKIM
  // keys must load too, or nothing changes. [delivery], [retry], [[route]] and [bounce] apply at
  // once (deliveries in progress are not interrupted); keys needing a restart keep their values.
  void reload() {
    ops::systemd::notify_reloading();
    auto loaded = config::load_config(config_path_);
    if (!loaded) return reload_refused("configuration error: " + loaded.error().str(), "configuration error");
    config::Config next = std::move(loaded).value();
    keep_restart_only_keys(next, *current_);
    auto rt = load_runtime(next, hostname_);
    if (!rt) return reload_refused(rt.error().message, rt.error().message);
    configs_.push_back(std::make_unique<const config::Config>(std::move(next)));
    current_ = configs_.back().get();
    tls_contexts_.push_back(rt->tls);
    server_->reconfigure(current_, rt->tls, rt->passwords, rt->dkim);
    if (http_server_) http_server_->reconfigure(current_, rt->dkim, rt->http_tokens);
    dkim_now_ = rt->dkim;
    agent_->reconfigure(current_, std::move(rt->routes));
    agent_->set_dkim(rt->dkim);
    suppression_->reconfigure(*current_);
    ops::set_log_style(current_->log.format == config::LogFormat::Json ? ops::LogStyle::Json
                                                                       : ops::LogStyle::Text);
    space_.refresh(SteadyClock::now());
    metrics_.count_reload(true);
    ops::log_info("reloaded configuration" +
                  (config_path_ ? " from " + *config_path_ : std::string(" (embedded default)")) +
                  " and TLS certificate");
    ops::systemd::notify_ready("running; configuration reloaded");
  }

  void reload_refused(const std::string& why, const std::string& status) {
    ops::log_error("reload refused: " + why + "; keeping the running configuration");
    metrics_.count_reload(false);
    ops::systemd::notify_ready("running; last reload failed (" + status + ")");
  }

  std::optional<inbound::SpaceCheck> measure_space() {
    auto st = store_->stats();
    if (!st) return std::nullopt;
    last_stats_ = *st;
    return check_space(*current_, *st);
  }

  std::string render_metrics() {
    ops::MetricsGauges g;
    const auto s = server_->stats();
    g.connections_total = s.connections;
    g.messages_accepted = s.accepted_messages;
    g.inbound_active = s.active;
    if (agent_) {
      const auto d = agent_->stats();
      g.delivered = d.delivered;
      g.deferred = d.deferred;
      g.bounced = d.bounced;
      g.expired = d.expired;
      g.reports = d.reports;
      g.outbound_connections_total = d.connections;
      g.outbound_active = d.active_connections;
      for (const auto& p : agent_->pace_status())
        if (p.rate > 0) g.pace_rates.emplace_back(p.destination, p.rate);
    }
    space_.accepting(SteadyClock::now());
    g.map_size = last_stats_.map_size;
    g.map_used = last_stats_.map_used;
    g.map_free = last_stats_.map_free;
    g.fs_free = space_.last().fs_free;
    g.fs_size = space_.last().fs_size;
    g.accepting = space_.last().ok;
    // Messages, recipients still to deliver and the oldest arrival: counted, not scanned (a
    // scrape must not hold the I/O thread for a second when a million messages wait).
    const TimeMs now = now_ms();
    auto counts = store_->counts();
    g.queue_ok = static_cast<bool>(counts);
    if (counts) {
      g.queue_messages = counts->messages;
      g.queue_recipients = counts->pending_recipients;
      if (counts->oldest_arrival_ms)
        g.oldest_message_age_seconds =
            static_cast<double>(std::max<TimeMs>(0, now - *counts->oldest_arrival_ms)) / 1000.0;
    }
    g.events_pending = events_ ? events_->pending() : 0;
    if (cluster_) {
      g.cluster_enabled = true;
      g.cluster_up = cluster_->link().up();
      g.cluster_latency_seconds = cluster_->link().latency_seconds();
    }
    return metrics_.render(g);
  }

  // Healthy = the writer thread commits a (no-op) write transaction now.
  void check_health(std::function<void(bool, std::string)> done) {
    const bool accepting = space_.last().ok;
    const std::string why = space_.last().why;
    batcher_->submit([](queue::WriteTxn&) { return Result<void>(); },
                     [done, accepting, why](Result<void> r) {
                       if (!r)
                         done(false, "queue not writable: " + r.error().message);
                       else
                         done(true, accepting ? "ok: queue writable, accepting mail"
                                              : "ok: queue writable; refusing new mail: " + why);
                     });
  }

  std::vector<std::unique_ptr<const config::Config>> configs_;
  const config::Config* current_ = nullptr;
  std::optional<std::string> config_path_;
  std::string hostname_;
  std::optional<DaemonQueue> queue_;  // the store, the pid-file lock and the run user
  queue::QueueStore* store_ = nullptr;
  std::optional<Runtime> runtime_;
  std::vector<std::shared_ptr<asio::ssl::context>> tls_contexts_;  // every one ever loaded (reload)
  std::shared_ptr<const dkim::DkimSigner> dkim_now_;
  ops::Metrics metrics_;
  std::unique_ptr<queue::CommitBatcher> batcher_;  // its destructor drains and joins the writer
  asio::io_context io_{1};
  AdoptedSockets adopted_;
  queue::QueueStore::Stats last_stats_;
  inbound::SpaceGate space_;
  std::shared_ptr<net::Resolver> resolver_;
  std::unique_ptr<SuppressionService> suppression_;
  std::unique_ptr<inbound::SmtpServer> server_;
  std::unique_ptr<ops::MetricsServer> metrics_server_;
  std::unique_ptr<inbound::HttpServer> http_server_;
  std::unique_ptr<outbound::TlsReporter> tlsrpt_;
  std::unique_ptr<outbound::EventSinks> events_;
  std::unique_ptr<outbound::DeliveryAgent> agent_;
  std::unique_ptr<inbound::MaildropImport> maildrop_;
  std::unique_ptr<ops::ControlSocket> control_;
  std::unique_ptr<ClusterNode> cluster_;   // [cluster] only
  std::unique_ptr<SuppressionFeed> feed_;  // [cluster] only
  std::string cluster_password_;
  asio::signal_set stop_signals_{io_, SIGTERM, SIGINT};
  asio::signal_set hangups_{io_, SIGHUP};
  asio::signal_set wakeups_{io_, SIGUSR1};
  asio::steady_timer space_timer_{io_};
  asio::steady_timer maildrop_timer_{io_};
  asio::steady_timer watchdog_timer_{io_};
  asio::steady_timer suppression_timer_{io_};
  int signals_seen_ = 0;
};

}  // namespace

int run_daemon(const config::Config& config) { return run_daemon(config, std::nullopt); }

int run_daemon(const config::Config& initial, const std::optional<std::string>& config_path) {
  ops::set_log_style(initial.log.format == config::LogFormat::Json ? ops::LogStyle::Json
                                                                   : ops::LogStyle::Text);
  Daemon daemon(initial, config_path);
  return daemon.run();
}

}  // namespace ferry::daemon
