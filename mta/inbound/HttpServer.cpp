// HttpServer: see HttpServer.hpp. One coroutine per connection, as the SMTP server: read a
// request's header (its whole header within one deadline, so a client dribbling octets cannot
// hold a slot: slow-loris), authenticate, then route. A body is read only for an authenticated
// POST whose announced length fits the limits and the pending-bytes budget.
#include "mta/inbound/HttpServer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include "ferry/JsonWriter.hpp"
#include "ferry/text/Ascii.hpp"
#include "mta/inbound/HttpReply.hpp"
#include "mta/inbound/PrepareForQueue.hpp"
#include "mta/net/Completion.hpp"
#include "mta/ops/Log.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/policy/SmtpPolicy.hpp"
#include "mta/submit/MessageJson.hpp"

namespace ferry::inbound {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxConnections = 64;              // all [[http]] listeners together
constexpr std::uint32_t kHeaderLimit = 16 * 1024;        // request line and header fields
constexpr int kMaxRequestsPerConnection = 100;           // keep-alive is bounded
constexpr auto kIdleTimeout = std::chrono::seconds(30);  // a whole header, and between requests
constexpr auto kWriteTimeout = std::chrono::seconds(30);

// The largest JSON body: a message of max_message_size written as JSON strings, where every
// CRLF line end takes four characters ("\r\n") for two octets, plus room for the other fields.
std::uint64_t body_limit(const config::Config& cfg) {
  const std::uint64_t max = cfg.smtp.max_message_size ? cfg.smtp.max_message_size : 64ull << 20;
  return 2 * max + (64u << 10);
}

std::string peer_ip(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

// RFC 6750 §2.1: Authorization: Bearer <b64token>; the scheme is case-insensitive (RFC 7235 §2.1).
std::string_view bearer_token(const http::request<http::string_body>& req) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v(it->value().data(), it->value().size());
  if (v.size() < 7 || !text::iequals(v.substr(0, 7), "Bearer ")) return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

bool is_json_type(const http::request<http::string_body>& req) {
  const auto it = req.find(http::field::content_type);
  if (it == req.end()) return true;  // curl -d without -H: taken as JSON, the only type served
  std::string_view v(it->value().data(), it->value().size());
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return text::iequals(v, "application/json");
}

}  // namespace

struct HttpConnection {
  explicit HttpConnection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::string ip;
  std::size_t listener = 0;
  bool idle = true;
};

using Parser = http::request_parser<http::string_body>;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& i, HttpServerDeps d) : io(i), deps(std::move(d)) {}
  ~Impl() { dkim_pool.join(); }

  asio::io_context& io;
  HttpServerDeps deps;
  std::unique_ptr<smtp::RelayPolicy> relay;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::uint16_t> ports;
  std::set<HttpConnection*> connections;
  std::uint64_t pending_bytes = 0;  // bodies being read or handled, all connections together
  bool stopping = false;
  // Signing hashes the whole message: not on the I/O thread (as the SMTP server's DKIM worker).
  asio::thread_pool dkim_pool{1};

  awaitable<void> accept_loop(std::size_t index);
  awaitable<void> serve(tcp::socket socket, std::size_t index);
  awaitable<HttpReply> handle(HttpConnection& conn, Parser& parser);
  awaitable<HttpReply> post_message(HttpConnection& conn, Parser& parser, const std::string& label);
  awaitable<HttpReply> accept_message(HttpConnection& conn, const std::string& body,
                                      const std::string& label);
  awaitable<HttpReply> commit(HttpSubmission& sub, QueueId id, const HttpConnection& conn,
                              const std::string& label);
  HttpReply get_message(std::string_view id_text) const;
  awaitable<Result<SignReport>> sign_off_thread(std::shared_ptr<const dkim::DkimSigner> signer,
                                                std::string& body);
  awaitable<Result<void>> enqueue(queue::NewMessage message);
  awaitable<void> write(HttpConnection& conn, const HttpReply& reply, unsigned version, bool keep_alive);
};

awaitable<void> HttpServer::Impl::accept_loop(std::size_t index) {
  auto& acceptor = *acceptors[index];
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (!acceptor.is_open() || stopping) co_return;
      continue;
    }
    asio::co_spawn(io, serve(std::move(socket), index), asio::detached);
  }
}

awaitable<void> HttpServer::Impl::write(HttpConnection& conn, const HttpReply& reply, unsigned version,
                                        bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "ferry");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.fields) res.set(name, value);
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  conn.stream.expires_after(kWriteTimeout);
  auto [ec, n] = co_await http::async_write(conn.stream, res, kNoThrow);
  (void)n;
  if (ec) conn.stream.socket().close(ec);
}

awaitable<void> HttpServer::Impl::serve(tcp::socket socket, std::size_t index) {
  auto self = shared_from_this();
  boost::system::error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);  // each reply is one write: send it at once
  HttpConnection conn(std::move(socket));
  conn.ip = peer_ip(conn.stream.socket());
  conn.listener = index;
  if (connections.size() >= kMaxConnections || stopping) {
    ops::log_info("http: reject: connect from [" + conn.ip + "]: too many connections");
    const HttpReply busy = reply_error(503, "too many connections, try again later");
    co_await write(conn, busy, 11, false);
    co_return;
  }
  connections.insert(&conn);
  struct Leave {
    Impl& s;
    HttpConnection* c;
    ~Leave() { s.connections.erase(c); }
  } leave{*this, &conn};
  for (int served = 0; served < kMaxRequestsPerConnection && !stopping; ++served) {
    Parser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(body_limit(*deps.config));
    conn.idle = true;
    conn.stream.expires_after(kIdleTimeout);
    auto [ec, n] = co_await http::async_read_header(conn.stream, conn.buffer, parser, kNoThrow);
    (void)n;
    conn.idle = false;
    if (ec && ec.category() != http::make_error_code(http::error::header_limit).category()) break;
    HttpReply reply;
    if (ec == http::error::header_limit)
      reply = reply_error(431, "the request header is larger than 16 KiB");
    else if (ec == http::error::body_limit)
      reply =
          reply_error(413, "the body is larger than " + std::to_string(body_limit(*deps.config)) + " octets");
    else if (ec)
      reply = reply_error(400, "malformed HTTP request");
    else
      reply = co_await handle(conn, parser);
    if (reply.status == 0) break;  // the connection failed while reading the body
    // A body not read would be taken for the next request: such a connection ends here.
    const bool keep = !ec && parser.is_done() && parser.get().keep_alive() && !stopping &&
                      served + 1 < kMaxRequestsPerConnection;
    const unsigned version = ec ? 11 : parser.get().version();
    co_await write(conn, reply, version, keep);
    if (!keep) break;
  }
  boost::system::error_code ignored;
  conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<HttpReply> HttpServer::Impl::handle(HttpConnection& conn, Parser& parser) {
  const auto& req = parser.get();
  const std::string method(req.method_string());
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  // Authentication first: without a valid token nothing tells whether a queue id exists.
  const TokenFile* tokens = conn.listener < deps.tokens.size() ? deps.tokens[conn.listener].get() : nullptr;
  const std::string_view presented = bearer_token(req);
  std::optional<std::string> label;
  if (!presented.empty() && tokens) label = tokens->match(presented);
  HttpReply reply;
  if (!label) {
    reply = reply_unauthorized(!presented.empty());
  } else if (path == "/v1/messages") {
    if (req.method() == http::verb::post)
      reply = co_await post_message(conn, parser, *label);
    else
      reply = reply_method_not_allowed("POST");
  } else if (path.starts_with("/v1/messages/")) {
    if (req.method() == http::verb::get)
      reply = get_message(std::string_view(path).substr(13));
    else
      reply = reply_method_not_allowed("GET");
  } else {
    reply = reply_error(404, "not found: POST /v1/messages or GET /v1/messages/{id}");
  }
  if (reply.status != 0)
    ops::log_info((reply.queue_id.empty() ? std::string() : reply.queue_id + ": ") + "http: " + method + " " +
                  path.substr(0, 200) + " " + std::to_string(reply.status) + " client=[" + conn.ip + "]" +
                  (label ? ", token " + *label : std::string(", no valid token")));
  co_return reply;
}

awaitable<HttpReply> HttpServer::Impl::post_message(HttpConnection& conn, Parser& parser,
                                                    const std::string& label) {
  if (deps.queue_has_space && !deps.queue_has_space())
    co_return reply_error(503, "the queue is short of space, try again later", "", true);
  if (!is_json_type(parser.get())) co_return reply_error(415, "the body must be application/json");
  // Memory held for bodies is bounded over all connections ([smtp] max_pending_bytes, counted
  // apart from SMTP's): before a byte of the body is read, room is reserved for the body and the
  // two copies made of it until the commit (the parsed request, the rendered message).
  const std::uint64_t announced =
      parser.content_length() ? *parser.content_length() : body_limit(*deps.config);
  const std::uint64_t want = 3 * announced;
  const std::uint64_t budget = deps.config->smtp.max_pending_bytes;
  if (want > budget || pending_bytes > budget - want)
    co_return reply_error(503, "too many messages in flight, try again later", "", true);
  pending_bytes += want;
  struct Release {
    Impl& s;
    std::uint64_t n;
    ~Release() { s.pending_bytes -= n; }
  } release{*this, want};
  // RFC 9110 §10.1.1: a client that waits for 100 (curl does above 1 MiB) is told to go on only
  // now that the token, the length and the budget are known to be fine.
  if (text::iequals(std::string_view(parser.get()[http::field::expect]), "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
    conn.stream.expires_after(kWriteTimeout);
    auto [wec, wn] = co_await http::async_write(conn.stream, go_on, kNoThrow);
    (void)wn;
    if (wec) co_return HttpReply{};
  }
  conn.stream.expires_after(deps.config->smtp.data_timeout);
  auto [ec, n] = co_await http::async_read(conn.stream, conn.buffer, parser, kNoThrow);
  (void)n;
  if (ec == http::error::body_limit)
    co_return reply_error(413,
                          "the body is larger than " + std::to_string(body_limit(*deps.config)) + " octets");
  if (ec) co_return HttpReply{};  // status 0: nothing more to say on this connection
  std::string body = std::move(parser.get().body());
  co_return co_await accept_message(conn, body, label);
}

awaitable<HttpReply> HttpServer::Impl::accept_message(HttpConnection& conn, const std::string& body,
                                                      const std::string& label) {
  const config::Config& cfg = *deps.config;
  submit::JsonLimits limits;
  limits.max_bytes = body_limit(cfg);
  limits.max_string = body_limit(cfg);
  auto json = submit::parse_json(body, limits);
  if (!json) co_return reply_error(400, "invalid JSON: " + json.error().message);
  submit::RequestLimits rlimits;
  rlimits.max_recipients = cfg.smtp.max_recipients;
  auto request = submit::parse_submit_request(*json, rlimits);
  if (!request) co_return reply_error(400, request.error().message, request.error().field);
  const QueueId id = deps.store->allocate_id();
  HttpSubmissionInputs in{cfg,
                          deps.hostname,
                          *relay,
                          deps.recipient_refusal,
                          id,
                          HttpClient{conn.ip, label},
                          smtp::WallTime{now_ms(), 0}};
  auto sub = make_http_submission(in, *request);
  if (!sub) co_return reply_problem(sub.error());
  co_return co_await commit(*sub, id, conn, label);
}

// DKIM on the worker, then the group commit: the same two steps as the SMTP server's.
awaitable<HttpReply> HttpServer::Impl::commit(HttpSubmission& sub, QueueId id, const HttpConnection& conn,
                                              const std::string& label) {
  auto signer = deps.dkim;
  auto signed_body = co_await sign_off_thread(signer, sub.body);
  if (!signed_body) {
    ops::log_error(id.str() + ": DKIM signing failed: " + signed_body.error().message + "; client=[" +
                   conn.ip + "]");
    co_return reply_error(503, "DKIM signing failed; the message was not queued", "", true);
  }
  if (!signed_body->domain.empty()) ops::log_info(id.str() + ": dkim-signed d=" + signed_body->domain);
  const std::string from = sub.envelope.reverse_path;
  const std::size_t nrcpt = sub.envelope.recipients.size();
  std::vector<std::string> accepted;
  for (const auto& r : sub.envelope.recipients) accepted.push_back(r.address);
  queue::NewMessage message = to_queue_record(id, std::move(sub.envelope), std::move(sub.body), now_ms());
  const std::uint64_t size = message.envelope.size;
  Result<void> result = co_await enqueue(std::move(message));
  if (!result) {
    ops::log_error(id.str() + ": commit failed (" + std::string(to_string(result.error().kind)) +
                   "): " + result.error().message + "; client=[" + conn.ip + "]");
    co_return reply_error(503,
                          result.error().is_space() ? "the queue is full; the message was not queued"
                                                    : "the queue refused the message; it was not queued",
                          "", true);
  }
  ops::log_info(id.str() + ": from=<" + from + ">, size=" + std::to_string(size) +
                ", nrcpt=" + std::to_string(nrcpt) + ", client=[" + conn.ip + "], proto=HTTP, token " +
                label + ", queued");
  if (deps.on_queued) deps.on_queued(id);
  co_return reply_accepted(id, sub.message_id, accepted, sub.refused);
}

HttpReply HttpServer::Impl::get_message(std::string_view id_text) const {
  const auto id = QueueId::parse(id_text);
  if (!id || id_text.size() != 16) return reply_error(404, "no such message in the queue");
  auto record = deps.store->load(*id);
  if (!record) {
    if (record.error().kind == ErrorKind::NotFound)
      return reply_error(404, "no such message in the queue (delivered, bounced, deleted or never queued)");
    return reply_error(503, "the queue could not be read", "", true);
  }
  auto body = deps.store->read_body(*id);
  HttpReply reply;
  reply.status = 200;
  reply.body = submit::message_show_json(*record, body ? std::string_view(*body) : std::string_view());
  reply.queue_id = id->str();
  return reply;
}

awaitable<Result<SignReport>> HttpServer::Impl::sign_off_thread(
    std::shared_ptr<const dkim::DkimSigner> signer, std::string& body) {
  // Not a coroutine (GCC 12, see Completion.hpp); the caller's frame owns `body` and waits.
  return net::run_on<Result<SignReport>>(dkim_pool.get_executor(), io.get_executor(), [signer, &body] {
    return sign_for_queue(body, signer.get(), now_ms());
  });
}

awaitable<Result<void>> HttpServer::Impl::enqueue(queue::NewMessage message) {
  co_return co_await net::completion_on<Result<void>>(
      // By reference: the start runs at once, inside this frame (GCC 12, see Completion.hpp).
      io.get_executor(),
      [this, &message](auto done) { deps.batcher->submit_enqueue(std::move(message), std::move(done)); });
}

Result<std::vector<std::shared_ptr<const TokenFile>>> load_http_tokens(const config::Config& config) {
  std::vector<std::shared_ptr<const TokenFile>> out;
  for (const auto& h : config.http) {
    auto file = TokenFile::load(h.token_file);
    if (!file) return file.error();
    out.push_back(std::make_shared<const TokenFile>(std::move(*file)));
  }
  return out;
}

HttpServer::HttpServer(asio::io_context& io, HttpServerDeps deps)
    : impl_(std::make_shared<Impl>(io, std::move(deps))) {}

HttpServer::~HttpServer() { stop(); }

Result<void> HttpServer::start() {
  auto& impl = *impl_;
  const config::Config& cfg = *impl.deps.config;
  impl.relay = std::make_unique<smtp::RelayPolicy>(policy::relay_rules(cfg, impl.deps.hostname));
  for (const auto& h : cfg.http) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(h.listen.ip, ec);
    if (ec) return make_error(ErrorKind::Invalid, "http address " + h.listen.ip + ": " + ec.message());
    tcp::endpoint ep(address, h.listen.port);
    auto acceptor = std::make_unique<tcp::acceptor>(impl.io);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(1024, ec);
    if (ec) return make_error(ErrorKind::Io, "cannot listen on " + h.listen.str() + ": " + ec.message());
    const std::uint16_t port = acceptor->local_endpoint(ec).port();
    impl.ports.push_back(port);
    ops::log_info("listening on " + h.listen.ip + ":" + std::to_string(port) + " (http submission)");
    impl.acceptors.push_back(std::move(acceptor));
  }
  for (std::size_t i = 0; i < impl.acceptors.size(); ++i)
    asio::co_spawn(impl.io, impl.accept_loop(i), asio::detached);
  return {};
}

std::vector<std::uint16_t> HttpServer::ports() const { return impl_->ports; }

void HttpServer::stop() {
  if (!impl_ || impl_->stopping) return;
  impl_->stopping = true;
  boost::system::error_code ec;
  for (auto& a : impl_->acceptors) a->close(ec);
  for (HttpConnection* c : impl_->connections)
    if (c->idle) c->stream.socket().close(ec);
}

void HttpServer::reconfigure(const config::Config* config, std::shared_ptr<const dkim::DkimSigner> dkim,
                             std::vector<std::shared_ptr<const TokenFile>> tokens) {
  auto& impl = *impl_;
  impl.deps.config = config;
  impl.deps.dkim = std::move(dkim);
  if (tokens.size() == impl.deps.tokens.size()) impl.deps.tokens = std::move(tokens);
  impl.relay = std::make_unique<smtp::RelayPolicy>(policy::relay_rules(*config, impl.deps.hostname));
}

}  // namespace ferry::inbound
