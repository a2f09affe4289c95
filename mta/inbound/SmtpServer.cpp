// SmtpServer: see SmtpServer.hpp. The daemon runs one I/O thread, so connections share no
// locks; the queue writer thread posts commit results back to it. Every await has a deadline
// (RFC 5321 §4.5.3.2) enforced by the connection's net::SmtpStream.
#include "mta/inbound/SmtpServer.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <list>
#include <map>
#include <set>
#include <unordered_map>

#include "mta/inbound/AuthFailureTracker.hpp"
#include "mta/inbound/PendingBytesBudget.hpp"
#include "mta/inbound/PrepareForQueue.hpp"
#include "mta/inbound/RecipientRefusal.hpp"
#include "mta/inbound/SessionTimers.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/SmtpStream.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/policy/SmtpPolicy.hpp"
#include "mta/smtp/RelayPolicy.hpp"
#include "mta/smtp/ServerSession.hpp"

namespace ferry::inbound {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(use_awaitable);

bool is_loopback(const std::string& ip) {
  return ip.starts_with("127.") || ip == "::1" || ip.starts_with("::ffff:127.");
}

// "::ffff:127.0.0.1" → "127.0.0.1": IPv4 clients on a dual-stack socket are shown as IPv4.
std::string peer_ip(const tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  return addr.to_string();
}

// Each connection holds one descriptor; the soft RLIMIT_NOFILE is often 1024, which would cap
// max_connections below its default. Raise the soft limit towards the hard one at start-up.
void raise_file_limit(std::uint64_t connections) {
  const rlim_t want = static_cast<rlim_t>(connections) + 256;  // listeners, LMDB, resolver, logs
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want)
    ops::log_warning("open file limit " + std::to_string(lim.rlim_cur) + " is below the " +
                     std::to_string(want) + " that [smtp] max_connections = " + std::to_string(connections) +
                     " needs; raise LimitNOFILE (systemd) or ulimit -n");
}

constexpr std::size_t kCommandRead = 4 * 1024;  // a read while no message is being stored
constexpr std::size_t kMinBody = 16 * 1024;     // the first body buffer of a message
// Set aside per connection: a body that starts inside a command read (a few KiB at most, with
// std::string's doubling) is counted after the read, and must not break the banker's rule.
constexpr std::size_t kAllowance = 32 * 1024;
constexpr std::size_t kBodySlack = 512 * 1024;    // Received header + what one read can add
constexpr std::size_t kSignatureRoom = 8 * 1024;  // DKIM-Signature fields inserted at the top

constexpr std::size_t kAuthInFlight = 2;  // password checks one client address may have running

// A message body is one large block: with glibc's default (a threshold that rises to the largest
// block freed), freed bodies stay in the heap and the process's memory would not come back down
// after a burst. A fixed threshold keeps every body in its own mapping, returned when freed, and
// its untouched capacity costs no memory at all.
void return_large_blocks_to_the_system() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

// [smtp] max_pending_bytes; a warning when the largest message cannot fit (it would get 451).
void set_pending_capacity(PendingBytesBudget& budget, const config::Config& cfg) {
  budget.set_capacity(cfg.smtp.max_pending_bytes);
  const std::uint64_t one = 2 * (cfg.smtp.max_message_size + kBodySlack);
  if (one > cfg.smtp.max_pending_bytes)
    ops::log_warning("[smtp] max_pending_bytes = " + std::to_string(cfg.smtp.max_pending_bytes) +
                     " is less than twice max_message_size plus 1MiB (" + std::to_string(one) +
                     "): the largest messages will be refused with 451 4.3.1");
}

std::string first_line(const std::string& reply) {
  auto end = reply.find("\r\n");
  return reply.substr(0, end);
}

}  // namespace

struct Connection;
struct SessionRun;

struct SmtpServer::Impl : std::enable_shared_from_this<SmtpServer::Impl> {
  asio::io_context& io;
  SmtpServerDeps deps;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::uint16_t> ports;
  std::vector<std::vector<config::Cidr>> listener_networks;
  std::unique_ptr<smtp::RelayPolicy> relay;
  std::set<Connection*> connections;
  std::map<std::string, std::uint32_t> per_ip;
  SmtpServerStats stats;
  bool stopping = false;
  bool stressed = false;  // more than 80% of max_connections in use (Postfix's stress mode)
  std::function<void()> on_drained;
  asio::thread_pool auth_pool{1};  // crypt(3) is slow by design: keep it off the I/O thread
  asio::thread_pool dkim_pool{1};  // so is hashing a large message: no client stalls the others
  // AUTH abuse: failures per client address across connections, and the verifications each
  // address has on the crypt thread (at most kAuthInFlight: one address cannot starve it).
  AuthFailureTracker auth_failures;
  std::unordered_map<std::string, std::size_t> auth_in_flight;
  // [smtp] max_pending_bytes: message bytes held by all connections before their commit, and
  // the connections waiting (not reading their socket) until a release makes room.
  PendingBytesBudget pending{0, kAllowance};
  std::list<asio::steady_timer*> memory_waiters;

  Impl(asio::io_context& io_, SmtpServerDeps d) : io(io_), deps(std::move(d)) {}
  ~Impl() {
    auth_pool.join();
    dkim_pool.join();
  }

  awaitable<void> accept_loop(std::size_t index);
  awaitable<void> serve(tcp::socket socket, std::size_t index);
  // The steps of serve(): admission (limits), the per-connection policy, the read loop, and one
  // handler per session action.
  awaitable<bool> admit(Connection& conn, bool in_relay_networks);
  smtp::SessionPolicy connection_policy(const Connection& conn, const config::Listener& listener,
                                        bool in_relay_networks) const;
  smtp::SessionHooks connection_hooks(bool may_relay, bool check_suppression);
  awaitable<void> converse(SessionRun& run);
  awaitable<bool> read_once(SessionRun& run, SessionTimers& timers, std::string& inbuf);
  awaitable<bool> flush(SessionRun& run);
  awaitable<bool> run_actions(SessionRun& run);
  void on_reply(SessionRun& run, const smtp::SendReply& reply);
  awaitable<bool> on_starttls(SessionRun& run);
  awaitable<void> on_sign(SessionRun& run, smtp::SignMessage& sign);
  awaitable<void> on_commit(SessionRun& run, smtp::CommitMessage& commit);
  awaitable<Result<void>> enqueue(queue::NewMessage message);
  // Enters or leaves stress mode after a connection came or went; logs each change. Waits
  // begun while stressed, and those already waiting for a command, use stress_command_timeout.
  void update_stress();
  awaitable<bool> reserve_memory(Connection& conn, std::uint64_t bytes, SteadyClock::time_point deadline);
  void set_memory(Connection& conn, std::uint64_t bytes);
  awaitable<smtp::AuthOutcome> check_auth(Connection& conn, const smtp::VerifyAuth& auth,
                                          std::size_t failures);
  awaitable<bool> verify_password(const smtp::VerifyAuth& auth);
  awaitable<Result<SignReport>> sign_off_thread(std::shared_ptr<const dkim::DkimSigner> signer,
                                                std::string& body);
  awaitable<void> make_room(Connection& conn, smtp::ServerSession& session, std::size_t read_size);
  void connection_ended() {
    if (stopping && connections.empty() && on_drained) {
      auto done = std::move(on_drained);
      on_drained = nullptr;
      asio::post(io, std::move(done));
    }
  }
};

// One client connection: its stream (socket, optional TLS, deadline) and what the server tracks
// about it.
struct Connection {
  SmtpServer::Impl& server;
  net::SmtpStream stream;
  bool idle = false;  // blocked reading a command (not in a transaction step)
  smtp::ServerSession* session = nullptr;
  std::string ip;
  std::string where;                        // "[ip]:port", for logs
  PendingBytesBudget::HolderId memory = 0;  // this connection's share of max_pending_bytes
  std::uint64_t body_limit = 0;             // the largest body buffer a message can need
  std::chrono::milliseconds data_timeout{0};
  bool waited_for_memory = false;  // logged once per message

  Connection(SmtpServer::Impl& s, tcp::socket sock) : server(s), stream(std::move(sock)) {}

  // The server side of the TLS handshake (implicit TLS or STARTTLS), bounded by `timeout`.
  awaitable<bool> start_tls(asio::ssl::context& context, std::chrono::milliseconds timeout,
                            boost::system::error_code& ec) {
    stream.begin_tls(context);
    ec = co_await stream.handshake(asio::ssl::stream_base::server, timeout);
    co_return !ec;
  }

  // Why the last wait failed, for the log: the deadline or the socket's error.
  std::string failure(const boost::system::error_code& ec) const {
    return stream.timed_out() ? "timeout" : ec.message();
  }
};

void SmtpServer::Impl::update_stress() {
  const std::size_t max = deps.config->smtp.max_connections;
  const bool now = under_stress(connections.size(), max);
  if (now == stressed) return;
  stressed = now;
  // Stress applies to the connections already waiting for a command too, not only to new
  // waits: otherwise idle clients that came first would keep their slots for command_timeout.
  if (now) {
    const auto limit = SteadyClock::now() + deps.config->smtp.stress_command_timeout;
    for (Connection* c : connections)
      if (c->idle) c->stream.shorten(limit);
  }
  ops::log_info(std::string("stress mode ") + (now ? "on" : "off") + ": " +
                std::to_string(connections.size()) + " of " + std::to_string(max) + " connections in use");
}

// ---- memory for messages before their commit ([smtp] max_pending_bytes) ----------------------
// A connection holds its body buffer's capacity; while a message is signed and committed, also
// one more copy of its size (LMDB copies the body into its dirty pages, DKIM canonicalizes the
// header section) and room for the DKIM-Signature fields. Its claim is therefore twice the
// largest body buffer: the most it can ever hold. queue/README.md explains the choice.

awaitable<bool> SmtpServer::Impl::reserve_memory(Connection& conn, std::uint64_t bytes,
                                                 SteadyClock::time_point deadline) {
  while (!pending.try_set(conn.memory, bytes)) {
    if (SteadyClock::now() >= deadline || !conn.stream.is_open()) co_return false;
    if (!conn.waited_for_memory) {
      conn.waited_for_memory = true;
      ops::log_info(conn.where + ": waiting for memory: " + std::to_string(pending.total()) + " of " +
                    std::to_string(pending.capacity()) + " pending bytes held");
    }
    // TCP backpressure: the socket is not read while this connection waits; a release wakes it.
    asio::steady_timer timer(io, deadline);
    auto at = memory_waiters.insert(memory_waiters.end(), &timer);
    co_await timer.async_wait(kNoThrow);
    memory_waiters.erase(at);
  }
  co_return true;
}

void SmtpServer::Impl::set_memory(Connection& conn, std::uint64_t bytes) {
  const bool released = bytes < pending.held(conn.memory);
  pending.force_set(conn.memory, bytes);
  if (released)
    for (auto* timer : memory_waiters) timer->cancel();
}

// Before a read of up to `read_size` octets: grows the body buffer so that feeding them cannot
// reallocate it, within the budget (by half its size at a time: few copies, little slack). When
// no room comes within data_timeout, the message is dropped: the rest of its data is read but not
// stored and its end is answered 451 4.3.1.
awaitable<void> SmtpServer::Impl::make_room(Connection& conn, smtp::ServerSession& session,
                                            std::size_t read_size) {
  const std::size_t growth = session.body_growth_bound(read_size);
  const std::size_t capacity = session.body_capacity();
  const std::size_t need = session.body_size() + growth;
  if (growth == 0 || need <= capacity) co_return;
  const std::size_t step = std::clamp<std::size_t>(capacity + capacity / 2, kMinBody, conn.body_limit);
  const std::size_t next = std::max(need, step);
  // Both buffers exist while the body moves into the larger one.
  if (!co_await reserve_memory(conn, capacity + next, SteadyClock::now() + conn.data_timeout)) {
    ops::log_info(conn.where +
                  ": no memory for the message within data_timeout; it is read and refused (451 4.3.1)");
    session.drop_message();
    set_memory(conn, session.body_capacity());
    co_return;
  }
  session.reserve_body(next);
  set_memory(conn, session.body_capacity());
}

// crypt(3) on the auth thread, then back to this connection's executor.
// Not a coroutine: GCC 12 miscompiles a lambda with init-captures built inside a co_await
// expression (a double free), so the awaitable is returned instead.
awaitable<bool> SmtpServer::Impl::verify_password(const smtp::VerifyAuth& auth) {
  return net::run_on<bool>(auth_pool.get_executor(), io.get_executor(),
                           [passwords = deps.passwords, user = auth.user, pw = auth.password] {
                             return passwords && passwords->verify(user, pw);
                           });
}

// One AUTH: refused with 454 4.7.0 (RFC 4954 §6, temporary) while the client's address is
// blocked after repeated failures from any of its connections, or while it already has
// kAuthInFlight checks running; otherwise verified, and a failure is delayed (longer with each
// failure on this connection) and counted for the address.
awaitable<smtp::AuthOutcome> SmtpServer::Impl::check_auth(Connection& conn, const smtp::VerifyAuth& auth,
                                                          std::size_t failures) {
  const std::string key = auth_client_key(conn.ip);
  if (auth_failures.blocked(key, SteadyClock::now())) {
    ops::log_info("AUTH from " + conn.where + " refused: too many failed attempts from " + key);
    co_return smtp::AuthOutcome::TempFail;
  }
  if (auth_in_flight[key] >= kAuthInFlight) {
    ops::log_info("AUTH from " + conn.where + " refused: " + std::to_string(kAuthInFlight) +
                  " checks already running for " + key);
    co_return smtp::AuthOutcome::TempFail;
  }
  ++auth_in_flight[key];
  const bool ok = co_await verify_password(auth);
  if (--auth_in_flight[key] == 0) auth_in_flight.erase(key);
  if (ok) {
    ops::log_info("authenticated " + auth.user + " from " + conn.where + " (" + auth.mechanism + ")");
    co_return smtp::AuthOutcome::Ok;
  }
  if (auth_failures.failed(key, SteadyClock::now()))
    ops::log_warning("AUTH from " + key + " refused for 10 minutes: repeated failures (last from " +
                     conn.where + ")");
  // A delay that grows with repeated failures slows password guessing down.
  auto delay = std::chrono::milliseconds(std::min<std::size_t>(5000, 500 * (failures + 1)));
  asio::steady_timer t(io, delay);
  co_await t.async_wait(kNoThrow);
  ops::log_info("authentication failed for user " + auth.user + " from " + conn.where);
  co_return smtp::AuthOutcome::Invalid;
}

// DKIM signing on its worker thread; the signature fields are inserted there too (into the room
// the budget counted for them), so the I/O thread neither hashes nor moves the body. The caller's
// coroutine owns `body` and waits, so nothing else touches it meanwhile.
awaitable<Result<SignReport>> SmtpServer::Impl::sign_off_thread(
    std::shared_ptr<const dkim::DkimSigner> signer, std::string& body) {
  // Not a coroutine, as verify_password.
  return net::run_on<Result<SignReport>>(dkim_pool.get_executor(), io.get_executor(), [signer, &body] {
    return sign_for_queue(body, signer.get(), now_ms());
  });
}

awaitable<void> SmtpServer::Impl::accept_loop(std::size_t index) {
  auto& acceptor = *acceptors[index];
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (!acceptor.is_open() || stopping) co_return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        ops::log_warning("accept: " + ec.message() + "; pausing 100 ms");
        asio::steady_timer t(io, std::chrono::milliseconds(100));
        co_await t.async_wait(kNoThrow);
      }
      continue;
    }
    asio::co_spawn(io, serve(std::move(socket), index), asio::detached);
  }
}

// One SMTP session on an admitted connection: the session, the replies not yet written, and
// how the connection ends.
struct SessionRun {
  SessionRun(Connection& c, smtp::ServerSession& s, const config::Config& config)
      : conn(c), session(s), cfg(config) {}

  Connection& conn;
  smtp::ServerSession& session;
  const config::Config& cfg;
  std::string outbuf;
  bool closing = false;
  bool memory_held = false;  // the signing step reserved the memory the commit needs
  std::string end_reason = "quit";
  boost::system::error_code ec;
};

// Connection limits: answer 421 rather than leaving the client hanging (RFC 5321 §3.8).
// Clients in the listener's relay networks (local applications) are exempt from the per-IP
// limit unless limit_relay_networks says otherwise, as Postfix exempts $mynetworks
// (smtpd_client_event_limit_exceptions); max_connections still applies to them.
awaitable<bool> SmtpServer::Impl::admit(Connection& conn, bool in_relay_networks) {
  const config::Config& cfg = *deps.config;
  const bool per_ip_limited = cfg.smtp.limit_relay_networks || !in_relay_networks;
  const bool over_global = connections.size() >= cfg.smtp.max_connections;
  const bool over_ip = per_ip_limited && per_ip[conn.ip] >= cfg.smtp.max_connections_per_ip;
  if (!stopping && !over_global && !over_ip) co_return true;
  ++stats.rejected_connections;
  if (per_ip[conn.ip] == 0) per_ip.erase(conn.ip);
  std::string why = stopping ? "Service shutting down" : "Too many connections, try again later";
  ops::log_info("reject: connect from [" + conn.ip + "]: 421 4.7.0 " + why);
  if (deps.on_refused) deps.on_refused("421 4.7.0 " + why);
  const std::string reply = "421 4.7.0 " + deps.hostname + " " + why + "\r\n";
  co_await conn.stream.write(reply, std::chrono::seconds(5));
  co_return false;
}

smtp::SessionPolicy SmtpServer::Impl::connection_policy(const Connection& conn,
                                                        const config::Listener& listener,
                                                        bool in_relay_networks) const {
  const config::Config& cfg = *deps.config;
  smtp::SessionPolicy policy = policy::session_policy(cfg, deps.hostname);
  policy.tls_available = deps.tls != nullptr;
  policy.implicit_tls = listener.mode == config::ListenMode::Submissions;
  // AUTH on relay listeners (the public MX port) only when asked for: there it mostly invites
  // password guessing.
  policy.auth_available = deps.passwords != nullptr &&
                          (listener.mode != config::ListenMode::Relay || cfg.auth.on_relay_listeners);
  policy.allow_plaintext_auth = cfg.auth.allow_plaintext_loopback && is_loopback(conn.ip);
  policy.auth_required = listener.mode != config::ListenMode::Relay;
  policy.client_ip = conn.ip;
  // Submission ports (RFC 6409 §4.3): AUTH before MAIL whatever the client address, so an
  // address never stands in for a login there; the relay-network exemption is for relay listeners.
  policy.client_may_relay = in_relay_networks && listener.mode == config::ListenMode::Relay;
  // Mail from this host's own programs (cron through sendmail, apps on localhost) is local
  // submission: its sender leaves with the masquerade domain.
  if (listener.mode == config::ListenMode::Relay && is_loopback(conn.ip))
    policy.masquerade = policy::masquerade_rule(cfg, deps.hostname);
  // Whether a signer is configured is decided per message (a reload may add or remove one).
  policy.sign_messages = true;
  return policy;
}

smtp::SessionHooks SmtpServer::Impl::connection_hooks(bool may_relay, bool check_suppression) {
  smtp::SessionHooks hooks;
  hooks.next_queue_id = [this] { return deps.store->allocate_id(); };
  hooks.now = [] { return smtp::WallTime{now_ms(), 0}; };
  auto refusal = check_suppression ? deps.recipient_refusal : nullptr;
  hooks.decide_recipient = [this, may_relay, refusal](std::string_view address, bool authenticated) {
    smtp::RecipientDecision d = relay->decide(address, may_relay, authenticated);
    // Only a recipient the relay rules accept is looked up: a stranger learns nothing of the list.
    if (!refusal || d.kind == smtp::RecipientDecision::Kind::Reject) return d;
    const std::string_view target = d.kind == smtp::RecipientDecision::Kind::Rewrite ? d.address : address;
    if (auto line = refusal(target)) return recipient_refused(*line, target, address);
    return d;
  };
  hooks.queue_has_space = deps.queue_has_space;
  return hooks;
}

awaitable<void> SmtpServer::Impl::serve(tcp::socket socket, std::size_t index) {
  auto self = shared_from_this();
  const config::Config& cfg = *deps.config;
  const config::Listener& listener = cfg.listen[index];
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(tcp::no_delay(true), ec);
  Connection conn(*this, std::move(socket));
  conn.ip = peer_ip(remote);
  ++stats.connections;
  bool in_relay_networks = false;
  for (const auto& net : listener_networks[index])
    in_relay_networks = in_relay_networks || net.contains(conn.ip);
  const bool admitted = co_await admit(conn, in_relay_networks);
  if (!admitted) co_return;
  connections.insert(&conn);
  ++per_ip[conn.ip];
  ++stats.active;
  conn.body_limit = cfg.smtp.max_message_size + kBodySlack;
  conn.data_timeout = cfg.smtp.data_timeout;
  conn.memory = pending.add(2 * conn.body_limit);
  struct Leave {
    SmtpServer::Impl& s;
    Connection& c;
    ~Leave() {
      s.set_memory(c, 0);  // whatever the connection held for a message is freed with it
      s.pending.remove(c.memory);
      s.connections.erase(&c);
      if (--s.per_ip[c.ip] == 0) s.per_ip.erase(c.ip);
      --s.stats.active;
      s.update_stress();
      s.connection_ended();
    }
  } leave{*this, conn};
  update_stress();
  conn.where = "[" + conn.ip + "]:" + std::to_string(remote.port());
  ops::log_info("connect from " + conn.where + " to " + std::string(config::to_string(listener.mode)) +
                " listener port " + std::to_string(ports[index]));

  smtp::SessionPolicy policy = connection_policy(conn, listener, in_relay_networks);
  // Implicit TLS (RFC 8314 §3.3): the handshake comes before the greeting.
  if (policy.implicit_tls) {
    const bool handshaken = co_await conn.start_tls(*deps.tls, cfg.smtp.command_timeout, ec);
    if (!handshaken) {
      ops::log_info("disconnect from " + conn.where + ": TLS handshake failed: " + conn.failure(ec));
      co_return;
    }
    policy.tls_active = true;
    policy.tls_version = SSL_get_version(conn.stream.tls());
    policy.tls_cipher = SSL_get_cipher_name(conn.stream.tls());
  }
  const bool check_suppression = cfg.suppression.enabled && listener.suppression;
  smtp::ServerSession session(policy, connection_hooks(policy.client_may_relay, check_suppression));
  conn.session = &session;
  session.start();
  SessionRun run(conn, session, cfg);
  co_await converse(run);
  conn.session = nullptr;
  // Best effort close_notify; the peer may already be gone.
  if (run.end_reason == "quit") co_await conn.stream.shutdown_tls(std::chrono::seconds(1));
  conn.stream.close();
  ops::log_info("disconnect from " + conn.where + " (" + run.end_reason +
                "), messages=" + std::to_string(session.messages_committed()) +
                ", errors=" + std::to_string(session.error_count()));
}

// The action loop: perform what the session asks, then read more of the client, until the
// session closes, the client goes, a deadline passes or shutdown says 421.
awaitable<void> SmtpServer::Impl::converse(SessionRun& run) {
  const auto& smtp = run.cfg.smtp;
  SessionTimers timers(
      {smtp.command_timeout, smtp.data_timeout, smtp.transaction_timeout, smtp.stress_command_timeout},
      SteadyClock::now());
  // A small read buffer while the client sends commands (1,000 idle connections must stay
  // cheap); it grows to 64 KiB once a read fills it, i.e. when message data streams in.
  std::string inbuf(4 * 1024, '\0');
  std::size_t accepted_seen = 0;
  while (true) {
    const bool open = co_await run_actions(run);
    if (!open || run.session.closed()) break;
    if (stopping && !run.session.in_data()) {
      // Stage 1 of shutdown: a session between transactions is told and closed (RFC 5321 §3.8).
      run.outbuf = "421 4.3.2 " + deps.hostname + " Service shutting down\r\n";
      co_await flush(run);
      run.end_reason = "shutdown";
      break;
    }
    if (run.session.messages_committed() != accepted_seen) {
      accepted_seen = run.session.messages_committed();
      timers.message_accepted(SteadyClock::now());
    }
    const bool more = co_await read_once(run, timers, inbuf);
    if (!more) break;
  }
}

// One read of the client within its deadline, fed to the session. False when the connection
// ends (timeout answered 421, or the client went).
awaitable<bool> SmtpServer::Impl::read_once(SessionRun& run, SessionTimers& timers, std::string& inbuf) {
  Connection& conn = run.conn;
  smtp::ServerSession& session = run.session;
  set_memory(conn, session.body_capacity());  // a refused or committed message frees its buffer
  if (!session.in_data()) conn.waited_for_memory = false;
  // Commands are read in small pieces: a message that starts inside one stores little before
  // the budget sees it. Message data is read only once its buffer has room for it.
  const std::size_t read_size = session.in_data() ? inbuf.size() : std::min(inbuf.size(), kCommandRead);
  co_await make_room(conn, session, read_size);
  const SessionTimers::Read limit = timers.next_read(SteadyClock::now(), session.in_data(), stressed);
  conn.idle = !session.in_data();
  std::size_t n = 0;
  std::tie(run.ec, n) = co_await conn.stream.read_some(asio::buffer(inbuf.data(), read_size), limit.timeout);
  conn.idle = false;
  if (conn.stream.timed_out()) {
    // RFC 5321 §4.5.3.2.7: the server may close after the timeout, with a 421 first.
    const char* what =
        limit.transaction_limit && !conn.stream.shortened() ? "transaction timeout" : "timeout";
    run.outbuf = "421 4.4.2 " + deps.hostname + " Error: " + what + " exceeded\r\n";
    co_await flush(run);
    run.end_reason = what;
    co_return false;
  }
  if (run.ec || n == 0) {
    if (stopping && run.ec == asio::error::operation_aborted) co_return true;  // woken up to say 421
    run.end_reason =
        run.ec == asio::error::eof ? "lost connection" : "lost connection (" + run.ec.message() + ")";
    co_return false;
  }
  session.feed(std::string_view(inbuf.data(), n));
  // Count a body that started in this read; a finished one stays counted until its commit.
  if (session.body_capacity() > pending.held(conn.memory)) set_memory(conn, session.body_capacity());
  if (n == inbuf.size() && inbuf.size() < 64 * 1024) inbuf.resize(64 * 1024);
  co_return true;
}

awaitable<bool> SmtpServer::Impl::flush(SessionRun& run) {
  if (run.outbuf.empty()) co_return true;
  run.ec = co_await run.conn.stream.write(run.outbuf, run.cfg.smtp.command_timeout);
  run.outbuf.clear();
  co_return !run.ec;
}

// Performs every queued action in order; returns false when the connection must end.
awaitable<bool> SmtpServer::Impl::run_actions(SessionRun& run) {
  smtp::ServerSession& session = run.session;
  while (session.has_action()) {
    for (auto& action : session.take_actions()) {
      if (auto* reply = std::get_if<smtp::SendReply>(&action)) {
        on_reply(run, *reply);
        continue;
      }
      if (std::get_if<smtp::Close>(&action)) {
        run.closing = true;  // after the replies queued before it
        continue;
      }
      const bool flushed = co_await flush(run);  // what the client was told comes first
      if (!flushed) co_return false;
      if (std::get_if<smtp::StartTls>(&action)) {
        const bool started = co_await on_starttls(run);
        if (!started) co_return false;
      } else if (auto* auth = std::get_if<smtp::VerifyAuth>(&action)) {
        session.auth_result(co_await check_auth(run.conn, *auth, session.auth_failures()));
      } else if (auto* sign = std::get_if<smtp::SignMessage>(&action)) {
        co_await on_sign(run, *sign);
      } else if (auto* commit = std::get_if<smtp::CommitMessage>(&action)) {
        co_await on_commit(run, *commit);
      }
    }
    const bool flushed = co_await flush(run);
    if (!flushed || run.closing) co_return false;
  }
  co_return true;
}

void SmtpServer::Impl::on_reply(SessionRun& run, const smtp::SendReply& reply) {
  if (!reply.text.empty() && (reply.text[0] == '4' || reply.text[0] == '5') && !run.session.closed()) {
    ops::log_info("reply to " + run.conn.where + ": " + first_line(reply.text));
    if (deps.on_refused) deps.on_refused(first_line(reply.text));
  }
  run.outbuf += reply.text;
}

awaitable<bool> SmtpServer::Impl::on_starttls(SessionRun& run) {
  Connection& conn = run.conn;
  const bool started = co_await conn.start_tls(*deps.tls, run.cfg.smtp.command_timeout, run.ec);
  if (!started) {
    run.end_reason = "STARTTLS handshake failed: " + conn.failure(run.ec);
    co_return false;
  }
  run.session.tls_started(SSL_get_version(conn.stream.tls()), SSL_get_cipher_name(conn.stream.tls()));
  co_return true;
}

// DKIM (RFC 6376): sign once, at acceptance, before the durable commit, so what is stored is
// what is sent; the session asks only for mail from relay networks or authenticated clients.
// The memory the commit needs is reserved here, before the body grows on the worker thread.
awaitable<void> SmtpServer::Impl::on_sign(SessionRun& run, smtp::SignMessage& sign) {
  auto signer = deps.dkim;
  // Until the commit returns: the body, one more copy of it and the signature fields.
  const std::uint64_t need = sign.body.capacity() + sign.body.size() + kSignatureRoom;
  run.memory_held = co_await reserve_memory(run.conn, need, SteadyClock::now() + run.cfg.smtp.data_timeout);
  if (!run.memory_held) {
    const Error busy = make_error(ErrorKind::Busy, "no memory for the commit within data_timeout");
    ops::log_error(sign.queue_id.str() + ": commit failed (" + std::string(to_string(busy.kind)) +
                   "): " + busy.message + "; client=" + run.conn.where);
    run.session.sign_result(busy);
    co_return;
  }
  if (!signer || signer->empty()) {
    run.session.sign_result(std::move(sign.body));
    co_return;
  }
  auto out = co_await sign_off_thread(signer, sign.body);
  if (!out) {
    ops::log_error(sign.queue_id.str() + ": DKIM signing failed: " + out.error().message +
                   "; client=" + run.conn.where);
    run.memory_held = false;
    run.session.sign_result(make_error(ErrorKind::Security, out.error().message));
    co_return;
  }
  if (!out->domain.empty())
    ops::log_info(sign.queue_id.str() + ": dkim-signed d=" + out->domain);
  else
    ops::log_info(sign.queue_id.str() + ": not dkim-signed: " + out->skipped);
  run.session.sign_result(std::move(sign.body));
}

// The commit on the queue writer thread (group commit), its result posted back to this thread.
awaitable<Result<void>> SmtpServer::Impl::enqueue(queue::NewMessage message) {
  co_return co_await net::completion_on<Result<void>>(
      // By reference: the start runs at once, inside this frame (GCC 12, see Completion.hpp).
      io.get_executor(),
      [this, &message](auto done) { deps.batcher->submit_enqueue(std::move(message), std::move(done)); });
}

awaitable<void> SmtpServer::Impl::on_commit(SessionRun& run, smtp::CommitMessage& commit) {
  Connection& conn = run.conn;
  queue::NewMessage message =
      to_queue_record(commit.queue_id, std::move(commit.envelope), std::move(commit.body), now_ms());
  bool have_memory = run.memory_held;
  run.memory_held = false;
  if (!have_memory) {
    // Until the commit returns: the body, one more copy of it and the signature fields.
    const std::uint64_t need = message.body.capacity() + message.body.size() + kSignatureRoom;
    have_memory = co_await reserve_memory(conn, need, SteadyClock::now() + run.cfg.smtp.data_timeout);
  }
  const std::size_t nrcpt = message.envelope.recipients.size();
  const std::string from = message.envelope.reverse_path;
  const std::uint64_t size = message.envelope.size;
  const std::string proto = message.envelope.client.protocol;
  Result<void> result = make_error(ErrorKind::Busy, "no memory for the commit within data_timeout");
  if (have_memory) result = co_await enqueue(std::move(message));
  if (result) {
    ++stats.accepted_messages;
    std::string tls_info;
    if (conn.stream.tls()) tls_info = ", tls=" + conn.stream.tls_summary();
    ops::log_info(commit.queue_id.str() + ": from=<" + from + ">, size=" + std::to_string(size) +
                  ", nrcpt=" + std::to_string(nrcpt) + ", client=" + conn.where + ", proto=" + proto +
                  (run.session.authenticated() ? ", sasl_username=" + run.session.auth_user() : "") +
                  tls_info + ", queued");
    if (deps.on_queued) deps.on_queued(commit.queue_id);
  } else {
    ops::log_error(commit.queue_id.str() + ": commit failed (" + std::string(to_string(result.error().kind)) +
                   "): " + result.error().message + "; client=" + conn.where);
  }
  run.session.commit_result(result);
}

SmtpServer::SmtpServer(asio::io_context& io, SmtpServerDeps deps)
    : impl_(std::make_shared<Impl>(io, std::move(deps))) {}

SmtpServer::~SmtpServer() = default;

Result<void> SmtpServer::start() {
  auto& impl = *impl_;
  const config::Config& cfg = *impl.deps.config;
  impl.relay = std::make_unique<smtp::RelayPolicy>(policy::relay_rules(cfg, impl.deps.hostname));
  raise_file_limit(cfg.smtp.max_connections);
  set_pending_capacity(impl.pending, cfg);
  return_large_blocks_to_the_system();
  for (std::size_t i = 0; i < cfg.listen.size(); ++i) {
    const auto& l = cfg.listen[i];
    boost::system::error_code ec;
    auto address = asio::ip::make_address(l.address, ec);
    if (ec) return make_error(ErrorKind::Invalid, "listen address " + l.address + ": " + ec.message());
    tcp::endpoint ep(address, l.port);
    auto acceptor = std::make_unique<tcp::acceptor>(impl.io);
    if (auto passed = impl.deps.inherited_sockets.find(i); passed != impl.deps.inherited_sockets.end()) {
      // Socket activation: systemd bound and listens on it already (ferry.socket).
      acceptor->assign(ep.protocol(), passed->second, ec);
    } else {
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
      if (!ec) acceptor->bind(ep, ec);
      // A backlog of at least 1024: a short backlog drops connections under load.
      if (!ec) acceptor->listen(1024, ec);
    }
    if (ec)
      return make_error(ErrorKind::Io,
                        "cannot listen on " + l.address + ":" + std::to_string(l.port) + ": " + ec.message());
    const std::uint16_t port = acceptor->local_endpoint().port();
    impl.ports.push_back(port);
    impl.listener_networks.push_back(config::effective_relay_networks(cfg, l));
    ops::log_info("listening on " + l.address + ":" + std::to_string(port) + " (" +
                  std::string(config::to_string(l.mode)) + ")");
    impl.acceptors.push_back(std::move(acceptor));
  }
  for (std::size_t i = 0; i < impl.acceptors.size(); ++i)
    asio::co_spawn(impl.io, impl.accept_loop(i), asio::detached);
  return {};
}

std::vector<std::uint16_t> SmtpServer::ports() const { return impl_->ports; }

SmtpServerStats SmtpServer::stats() const { return impl_->stats; }

void SmtpServer::reconfigure(const config::Config* config, std::shared_ptr<asio::ssl::context> tls,
                             std::shared_ptr<const PasswordFile> passwords,
                             std::shared_ptr<const dkim::DkimSigner> dkim) {
  auto& impl = *impl_;
  impl.deps.config = config;
  impl.deps.tls = std::move(tls);
  impl.deps.passwords = std::move(passwords);
  impl.deps.dkim = std::move(dkim);
  impl.relay = std::make_unique<smtp::RelayPolicy>(policy::relay_rules(*config, impl.deps.hostname));
  set_pending_capacity(impl.pending, *config);
  for (std::size_t i = 0; i < impl.listener_networks.size() && i < config->listen.size(); ++i)
    impl.listener_networks[i] = config::effective_relay_networks(*config, config->listen[i]);
}

void SmtpServer::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  auto impl = impl_;
  impl->stopping = true;
  boost::system::error_code ec;
  for (auto& a : impl->acceptors) a->close(ec);
  impl->on_drained = std::move(done);
  // Wake the idle sessions so they answer 421 and close; the others finish their transaction.
  for (Connection* c : impl->connections) {
    if (c->idle) c->stream.socket().cancel(ec);
    if (c->session) c->session->shutdown();
  }
  if (impl->connections.empty()) {
    impl->connection_ended();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(impl->io, grace);
  timer->async_wait([impl, timer](boost::system::error_code) {
    if (impl->connections.empty()) return;
    ops::log_warning("shutdown grace period over: closing " + std::to_string(impl->connections.size()) +
                     " connections");
    for (Connection* c : impl->connections) c->stream.close();
    for (auto* t : impl->memory_waiters) t->cancel();  // they see the closed socket and end
  });
}

}  // namespace ferry::inbound
