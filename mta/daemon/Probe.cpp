// Probe: see Probe.hpp. The same route planner, resolver, MX plan, reply parser and reply
// classification as delivery; the SMTP dialogue is written out step by step (swaks-style) so each
// reply can be shown and explained, and so it can stop after RCPT.
#include "mta/daemon/Probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <memory>
#include <random>

#include "mta/config/Config.hpp"
#include "mta/daemon/DnsPlan.hpp"
#include "mta/daemon/Resolver.hpp"
#include "mta/daemon/RouteRules.hpp"
#include "mta/delivery/EnhancedStatusText.hpp"
#include "mta/delivery/MxPlan.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/delivery/ReplyClassifier.hpp"
#include "mta/smtp/Base64.hpp"
#include "mta/smtp/DotStuffer.hpp"
#include "mta/smtp/ReplyParser.hpp"

namespace ferry::daemon {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

const char* to_string(ProbeVerdict verdict) noexcept {
  switch (verdict) {
    case ProbeVerdict::Accepted: return "accepted";
    case ProbeVerdict::Rejected: return "rejected";
    case ProbeVerdict::TempFail: return "temporary failure";
    case ProbeVerdict::Unreachable: return "unreachable";
  }
  return "unknown";
}

namespace {

constexpr auto kNoThrow = asio::as_tuple(use_awaitable);
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string fmt_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

// EHLO keywords (RFC 5321 §4.1.1.1 and the IANA "SMTP Service Extensions" registry).
std::string explain_capability(const std::string& keyword, const std::string& params) {
  const std::string k = upper(keyword);
  if (k == "PIPELINING") return "commands may be sent in batches without waiting (RFC 2920)";
  if (k == "SIZE")
    return params.empty() || params == "0" ? "announces SIZE, no fixed limit (RFC 1870)"
                                           : "largest message accepted: " + params + " bytes (RFC 1870)";
  if (k == "8BITMIME") return "8-bit message bodies accepted (RFC 6152)";
  if (k == "SMTPUTF8") return "UTF-8 addresses and headers accepted (RFC 6531)";
  if (k == "DSN") return "delivery status notifications: NOTIFY/RET/ENVID/ORCPT (RFC 3461)";
  if (k == "STARTTLS") return "the connection can be upgraded to TLS (RFC 3207)";
  if (k == "ENHANCEDSTATUSCODES") return "replies carry x.y.z enhanced status codes (RFC 2034, RFC 3463)";
  if (k == "AUTH") return "SMTP AUTH with: " + params + " (RFC 4954)";
  if (k == "CHUNKING") return "BDAT chunks instead of DATA (RFC 3030)";
  if (k == "BINARYMIME") return "binary message bodies with BDAT (RFC 3030)";
  if (k == "REQUIRETLS") return "honours REQUIRETLS (RFC 8689)";
  if (k == "VRFY") return "VRFY address verification (RFC 5321 §3.5)";
  if (k == "EXPN") return "EXPN mailing list expansion (RFC 5321 §3.5)";
  if (k == "ETRN") return "remote queue starting (RFC 1985)";
  if (k == "HELP") return "HELP command (RFC 5321 §4.1.1.8)";
  if (k == "DELIVERBY") return "deliver-by time limits (RFC 2852)";
  if (k == "MT-PRIORITY") return "message priorities (RFC 6710)";
  if (k == "LIMITS") return "announced limits: " + params + " (RFC 9422)";
  if (k == "FUTURERELEASE") return "delayed release of messages (RFC 4865)";
  if (k == "NO-SOLICITING") return "no soliciting (RFC 3865)";
  if (k == "XCLIENT" || k == "XFORWARD") return "Postfix proxy extension (not for us)";
  if (k == "X-EXPS" || k == "X-LINK2STATE" || k == "XEXCH50") return "Microsoft Exchange extension";
  if (k == "CLIENTIDENTIFIER") return "Microsoft client identifier extension";
  return "not a standard extension";
}

std::string reply_line(const Reply& r) {
  std::string out = std::to_string(r.code);
  if (r.status.present()) out += " " + r.status.str();
  std::string text = r.text;
  for (auto& c : text)
    if (c == '\n') c = ' ';
  if (!text.empty()) out += " " + text;
  return out;
}

// "mx.example.org[192.0.2.1]", or just "[192.0.2.1]" for address literals.
std::string relay_name(const delivery::Target& t) {
  if (!t.host.empty() && t.host.front() == '[') return t.host;
  return t.host + "[" + t.ip + "]";
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string name_text(X509_NAME* name) {
  if (!name) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  std::string s = bio_text(bio);
  BIO_free(bio);
  return s;
}

std::string time_text(const ASN1_TIME* t) {
  if (!t) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  std::string s = bio_text(bio);
  BIO_free(bio);
  return s;
}

void certificate_info(SSL* ssl, ProbeTlsInfo& info) {
  info.version = SSL_get_version(ssl);
  info.cipher = SSL_get_cipher_name(ssl);
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) {
    info.verify_error = "no certificate presented";
    return;
  }
  info.subject = name_text(X509_get_subject_name(cert));
  info.issuer = name_text(X509_get_issuer_name(cert));
  info.not_before = time_text(X509_get0_notBefore(cert));
  info.not_after = time_text(X509_get0_notAfter(cert));
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        const auto* s = g->d.dNSName;
        info.subject_alt_names.push_back(
            "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s)));
      } else if (g->type == GEN_IPADD) {
        const auto* s = g->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(s);
        if (len == 4 || len == 16)
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
        info.subject_alt_names.push_back(std::string("IP:") + buf);
      }
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  const long rc = SSL_get_verify_result(ssl);
  info.verified = rc == X509_V_OK;
  if (!info.verified) info.verify_error = X509_verify_cert_error_string(rc);
}

// How one connection ended, for the choice between "try the next host" and "this is the answer".
struct SessionEnd {
  bool final = false;  // the server answered about the recipient (or AUTH/DATA): stop here
  ProbeVerdict verdict = ProbeVerdict::Unreachable;
  std::string summary;
  std::optional<ProbeReply> reply;
  delivery::ReplyCategory category;
};

struct Engine {
  asio::io_context io{1};
  const ProbeOptions& opt;
  std::function<void(const std::string&)> progress;
  ProbeResult res;
  Clock::time_point start = Clock::now();
  std::shared_ptr<Resolver> resolver;
  std::mt19937_64 rng{std::random_device{}()};
  delivery::RandomSource rand{[this] { return rng(); }};
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  std::string route_tls_name;                 // a [[route]]'s tls_name: the name to verify
  std::string trust_label = "the system CAs";  // what verification trusted, for the report

  Engine(const ProbeOptions& o, std::function<void(const std::string&)> p) : opt(o), progress(std::move(p)) {
    tls_ctx.set_default_verify_paths();
    // Verification is evaluated and reported, not enforced by OpenSSL: the probe shows the
    // certificate either way and fails itself when --tls=verify asks for it.
    tls_ctx.set_verify_mode(asio::ssl::verify_none);
    SSL_CTX_set_min_proto_version(tls_ctx.native_handle(), TLS1_2_VERSION);
  }

  void say(const std::string& line) {
    if (progress) progress(line);
  }

  auto resolve_mx(const std::string& name) {
    return asio::async_initiate<decltype(use_awaitable), void(MxAnswer)>(
        [this](auto handler, std::string n) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          resolver->lookup_mx(n, [this, h](MxAnswer a) { asio::post(io, [h, a] { (*h)(a); }); });
        },
        use_awaitable, name);
  }

  auto resolve_addresses(const std::string& name) {
    return asio::async_initiate<decltype(use_awaitable), void(AddressAnswer)>(
        [this](auto handler, std::string n) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          resolver->lookup_addresses(n, [this, h](AddressAnswer a) { asio::post(io, [h, a] { (*h)(a); }); });
        },
        use_awaitable, name);
  }

  ProbeReply explain(const std::string& command, const Reply& r, double elapsed) {
    ProbeReply p;
    p.command = command;
    p.code = r.code;
    p.status = r.status.str();
    p.text = r.text;
    p.elapsed_ms = elapsed;
    p.code_meaning = std::string(delivery::reply_class_meaning(r.code));
    if (auto m = delivery::reply_code_meaning(r.code); !m.empty()) p.code_meaning += ": " + std::string(m);
    p.status_meaning = delivery::describe_status(r.status);
    auto c = delivery::classify_reply_category(r);
    p.category = std::string(c.category);
    p.advice = std::string(c.advice);
    p.detail = std::string(c.detail);
    return p;
  }

  void finish_local(delivery::NetworkErrorKind kind, const std::string& detail, ProbeVerdict verdict,
                    const std::string& summary) {
    const Attempt a = delivery::classify_error({kind, detail}, 0);
    const auto c = delivery::classify_reply_category(a);
    res.verdict = verdict;
    res.summary = summary;
    res.category = std::string(c.category);
    res.advice = std::string(c.advice);
    res.detail = std::string(c.detail);
  }

  void record_dns(ProbeDnsStep step) {
    std::string line = "DNS " + step.type + " " + step.name + ": " + step.status;
    if (!step.error.empty() && step.status != "ok") line += " (" + step.error + ")";
    line += " in " + fmt_ms(step.elapsed_ms);
    say(line);
    for (const auto& r : step.records)
      say("    " + r.value + (r.ttl ? "  (TTL " + std::to_string(*r.ttl) + " s)" : "  (TTL: n/a)"));
    res.dns.push_back(std::move(step));
  }

  // ---- one connection ----
  struct Conn {
    tcp::socket socket;
    asio::steady_timer timer;
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
    smtp::ReplyParser parser;
    std::string lines;  // raw bytes not yet shown in the transcript
    Clock::time_point t0 = Clock::now();
    bool timed_out = false;
    ProbeConnection& rec;
    Conn(asio::io_context& io, ProbeConnection& r) : socket(io), timer(io), rec(r) {}
  };

  awaitable<void> guard(Conn& c, std::chrono::milliseconds t) {
    c.timer.expires_after(t);
    auto [ec] = co_await c.timer.async_wait(kNoThrow);
    if (!ec) {
      c.timed_out = true;
      boost::system::error_code ignored;
      c.socket.cancel(ignored);
    }
  }

  void note(Conn& c, char dir, const std::string& text) {
    c.rec.transcript.push_back({dir, text, ms_since(c.t0)});
    say(std::string("  ") + dir + ": " + text);
  }

  awaitable<bool> send_line(Conn& c, const std::string& line, const std::string& shown) {
    note(c, 'C', shown);
    std::string out = line + "\r\n";
    boost::system::error_code ec;
    auto op = [&]() -> awaitable<void> {
      std::size_t n = 0;
      if (c.tls) std::tie(ec, n) = co_await asio::async_write(*c.tls, asio::buffer(out), kNoThrow);
      else std::tie(ec, n) = co_await asio::async_write(c.socket, asio::buffer(out), kNoThrow);
    };
    co_await (op() || guard(c, opt.command_timeout));
    if (ec || c.timed_out) {
      c.rec.error = c.timed_out ? "timed out while writing" : "write failed: " + ec.message();
      co_return false;
    }
    co_return true;
  }

  // The next complete reply, or nullopt with c.rec.error set.
  awaitable<std::optional<Reply>> read_reply(Conn& c) {
    for (;;) {
      auto next = c.parser.next();
      if (!next) {
        c.rec.error = "malformed reply: " + next.error().message;
        co_return std::nullopt;
      }
      if (*next) co_return std::move(**next);
      char buf[4096];
      std::size_t n = 0;
      boost::system::error_code ec;
      auto op = [&]() -> awaitable<void> {
        if (c.tls) std::tie(ec, n) = co_await c.tls->async_read_some(asio::buffer(buf), kNoThrow);
        else std::tie(ec, n) = co_await c.socket.async_read_some(asio::buffer(buf), kNoThrow);
      };
      co_await (op() || guard(c, opt.command_timeout));
      if (c.timed_out) {
        c.rec.error = "timed out waiting for the reply";
        co_return std::nullopt;
      }
      if (ec) {
        c.rec.error = ec == asio::error::eof ? "connection closed by the server" : "read failed: " + ec.message();
        co_return std::nullopt;
      }
      const std::string_view bytes(buf, n);
      c.lines.append(bytes);
      for (auto pos = c.lines.find('\n'); pos != std::string::npos; pos = c.lines.find('\n')) {
        std::string line = c.lines.substr(0, pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        c.lines.erase(0, pos + 1);
        note(c, 'S', line);
      }
      c.parser.feed(bytes);
    }
  }

  // Sends a command (may be empty: the greeting) and reads + explains its reply.
  awaitable<std::optional<Reply>> exchange(Conn& c, const std::string& command, const std::string& line,
                                           const std::string& shown) {
    const auto t = Clock::now();
    if (!line.empty() && !co_await send_line(c, line, shown)) co_return std::nullopt;
    auto reply = co_await read_reply(c);
    if (!reply) co_return std::nullopt;
    ProbeReply p = explain(command, *reply, ms_since(t));
    say("     = " + std::to_string(p.code) + " " + p.code_meaning + "  [" + fmt_ms(p.elapsed_ms) + "]");
    if (!p.status_meaning.empty()) say("     = " + p.status_meaning);
    if (!p.category.empty())
      say("     = category " + p.category + (p.detail.empty() ? "" : " (" + p.detail + ")") + ": " + p.advice);
    c.rec.replies.push_back(std::move(p));
    co_return reply;
  }

  awaitable<bool> handshake(Conn& c, const std::string& verify_name) {
    c.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c.socket, tls_ctx);
    SSL* ssl = c.tls->native_handle();
    ProbeTlsInfo info;
    std::string name = verify_name;
    const bool literal = !name.empty() && name.front() == '[';
    if (literal) {
      name = name.substr(1, name.size() - 2);
      if (name.rfind("IPv6:", 0) == 0) name = name.substr(5);
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else if (!name.empty()) {
      SSL_set_tlsext_host_name(ssl, name.c_str());
      SSL_set1_host(ssl, name.c_str());
    }
    info.verify_name = name;
    const auto t = Clock::now();
    boost::system::error_code ec;
    auto op = [&]() -> awaitable<void> {
      std::tie(ec) = co_await c.tls->async_handshake(asio::ssl::stream_base::client, kNoThrow);
    };
    co_await (op() || guard(c, opt.command_timeout));
    info.elapsed_ms = ms_since(t);
    if (ec || c.timed_out) {
      info.error = c.timed_out ? "handshake timed out" : ec.message();
      say("  TLS handshake failed: " + info.error);
      c.rec.tls = std::move(info);
      co_return false;
    }
    info.established = true;
    certificate_info(ssl, info);
    say("  TLS: " + info.version + ", cipher " + info.cipher + "  [" + fmt_ms(info.elapsed_ms) + "]");
    say("    subject:  " + info.subject);
    std::string sans;
    for (const auto& s : info.subject_alt_names) sans += (sans.empty() ? "" : ", ") + s;
    say("    SANs:     " + (sans.empty() ? std::string("(none)") : sans));
    say("    issuer:   " + info.issuer);
    say("    valid:    " + info.not_before + " until " + info.not_after);
    say("    verified for " + (info.verify_name.empty() ? std::string("(no name)") : info.verify_name) +
        " against " + trust_label + ": " + (info.verified ? "yes" : "NO (" + info.verify_error + ")"));
    c.rec.tls = std::move(info);
    c.parser.reset();  // RFC 3207 §4.2: nothing from before the handshake counts
    c.lines.clear();
    co_return true;
  }

  void parse_capabilities(Conn& c, const Reply& ehlo) {
    c.rec.capabilities.clear();
    std::size_t pos = ehlo.text.find('\n');
    if (pos == std::string::npos) return;
    std::string rest = ehlo.text.substr(pos + 1);
    say("  Capabilities:");
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string line = rest.substr(0, nl);
      rest = nl == std::string::npos ? "" : rest.substr(nl + 1);
      auto sp = line.find_first_of(" =");
      ProbeCapability cap;
      cap.keyword = line.substr(0, sp);
      cap.parameters = sp == std::string::npos ? "" : line.substr(sp + 1);
      cap.explanation = explain_capability(cap.keyword, cap.parameters);
      char buf[64];
      std::snprintf(buf, sizeof buf, "    %-20s ", line.size() > 20 ? cap.keyword.c_str() : line.c_str());
      say(std::string(buf) + cap.explanation);
      c.rec.capabilities.push_back(std::move(cap));
    }
  }

  bool has_capability(const Conn& c, const std::string& keyword) const {
    for (const auto& cap : c.rec.capabilities)
      if (upper(cap.keyword) == keyword) return true;
    return false;
  }

  SessionEnd reply_end(const ProbeConnection& rec, bool final, const std::string& what) {
    SessionEnd e;
    e.final = final;
    // the deciding reply: the last one before our QUIT
    auto it = rec.replies.rbegin();
    while (it != rec.replies.rend() && it->command == "QUIT") ++it;
    e.reply = it != rec.replies.rend() ? *it : rec.replies.back();
    const int code = e.reply->code;
    e.verdict = code < 400 ? ProbeVerdict::Accepted : code < 500 ? ProbeVerdict::TempFail : ProbeVerdict::Rejected;
    Reply r{code, {}, e.reply->text};
    smtp::parse_enhanced_status(e.reply->status + " ", r.status);
    e.category = delivery::classify_reply_category(r);
    e.summary = what + ": " + reply_line(r);
    return e;
  }

  SessionEnd local_end(ProbeConnection& rec, delivery::NetworkErrorKind kind, ProbeVerdict verdict,
                       const std::string& what) {
    SessionEnd e;
    e.verdict = verdict;
    e.summary = what + (rec.error.empty() ? "" : ": " + rec.error);
    const Attempt a = delivery::classify_error({kind, rec.error}, 0);
    e.category = delivery::classify_reply_category(a);
    return e;
  }

  awaitable<SessionEnd> session(Conn& c, const delivery::Target& target, std::uint16_t port, ProbeTls tls,
                                bool require_tls, const std::string& verify_name, const std::string& auth_user,
                                const std::string& auth_password) {
    using K = delivery::NetworkErrorKind;
    auto& rec = c.rec;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(target.ip, ec);
    if (ec) {
      rec.error = "not an IP address: " + target.ip;
      co_return local_end(rec, K::BadAddressLiteral, ProbeVerdict::Unreachable, "cannot connect");
    }
    say("Connecting to " + relay_name(target) + ":" + std::to_string(port) + " ...");
    c.socket.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) {
      auto op = [&]() -> awaitable<void> {
        std::tie(ec) = co_await c.socket.async_connect(tcp::endpoint(address, port), kNoThrow);
      };
      co_await (op() || guard(c, opt.connect_timeout));
    }
    rec.connect_ms = ms_since(c.t0);
    if (ec || c.timed_out) {
      rec.error = c.timed_out ? "connect timed out" : ec.message();
      say("  connect failed: " + rec.error + "  [" + fmt_ms(rec.connect_ms) + "]");
      co_return local_end(rec, c.timed_out ? K::Timeout : K::ConnectRefused, ProbeVerdict::Unreachable,
                          "could not connect to " + relay_name(target));
    }
    rec.connected = true;
    boost::system::error_code ignored;
    c.socket.set_option(tcp::no_delay(true), ignored);
    say("  connected in " + fmt_ms(rec.connect_ms));

    auto lost = [&](const std::string& phase) {
      return local_end(rec, K::ConnectionDropped, ProbeVerdict::TempFail, "connection failed during " + phase);
    };
    auto quit = [&]() -> awaitable<void> {
      (void)co_await exchange(c, "QUIT", "QUIT", "QUIT");
      c.socket.close(ignored);
    };

    if (tls == ProbeTls::Implicit) {
      say("  implicit TLS (RFC 8314): handshake before the greeting");
      if (!co_await handshake(c, verify_name)) {
        rec.error = rec.tls ? rec.tls->error : "handshake failed";
        co_return local_end(rec, K::TlsFailure, ProbeVerdict::TempFail, "TLS handshake failed");
      }
    }
    auto greeting = co_await exchange(c, "greeting", "", "");
    if (!greeting) co_return lost("the greeting");
    if (greeting->code / 100 != 2) {
      co_await quit();
      co_return reply_end(rec, false, "the server refused the connection");
    }
    auto ehlo = co_await exchange(c, "EHLO", "EHLO " + opt.ehlo_name, "EHLO " + opt.ehlo_name);
    if (!ehlo) co_return lost("EHLO");
    if (ehlo->code / 100 == 2) {
      parse_capabilities(c, *ehlo);
    } else if (ehlo->code == 421) {
      co_return reply_end(rec, false, "EHLO refused");
    } else {
      auto helo = co_await exchange(c, "HELO", "HELO " + opt.ehlo_name, "HELO " + opt.ehlo_name);
      if (!helo) co_return lost("HELO");
      if (helo->code / 100 != 2) {
        co_await quit();
        co_return reply_end(rec, false, "HELO refused");
      }
    }

    const bool must_tls = tls == ProbeTls::Verify || require_tls;
    if (tls != ProbeTls::None && tls != ProbeTls::Implicit) {
      if (has_capability(c, "STARTTLS")) {
        auto st = co_await exchange(c, "STARTTLS", "STARTTLS", "STARTTLS");
        if (!st) co_return lost("STARTTLS");
        if (st->code == 220) {
          if (!co_await handshake(c, verify_name)) {
            rec.error = rec.tls ? rec.tls->error : "handshake failed";
            co_return local_end(rec, K::TlsFailure, ProbeVerdict::TempFail, "STARTTLS handshake failed");
          }
          auto again = co_await exchange(c, "EHLO", "EHLO " + opt.ehlo_name, "EHLO " + opt.ehlo_name);
          if (!again) co_return lost("EHLO after STARTTLS");
          if (again->code / 100 != 2) {
            co_await quit();
            co_return reply_end(rec, false, "EHLO after STARTTLS refused");
          }
          parse_capabilities(c, *again);
        } else if (must_tls) {
          co_await quit();
          co_return reply_end(rec, false, "STARTTLS refused, but TLS is required");
        } else {
          say("  STARTTLS refused: continuing in plaintext (opportunistic)");
        }
      } else if (must_tls) {
        rec.error = "STARTTLS not offered";
        co_await quit();
        co_return local_end(rec, K::TlsNotOffered, ProbeVerdict::TempFail, "TLS is required");
      } else {
        say("  STARTTLS not offered: continuing in plaintext (opportunistic)");
      }
    }
    if (tls == ProbeTls::Verify) {
      if (rec.tls && rec.tls->established && !rec.tls->verified) {
        rec.error = "certificate not verified for " + rec.tls->verify_name + ": " + rec.tls->verify_error;
        co_await quit();
        co_return local_end(rec, K::TlsFailure, ProbeVerdict::TempFail, "TLS verification failed");
      }
    }

    if (!auth_user.empty()) {
      std::string raw;
      raw.push_back('\0');
      raw += auth_user;
      raw.push_back('\0');
      raw += auth_password;
      auto a = co_await exchange(c, "AUTH", "AUTH PLAIN " + smtp::base64_encode(raw), "AUTH PLAIN <credentials hidden>");
      if (!a) co_return lost("AUTH");
      if (a->code / 100 != 2) {
        co_await quit();
        co_return reply_end(rec, true, "authentication refused");
      }
    }

    const std::string mail = "MAIL FROM:<" + opt.sender + ">";
    auto m = co_await exchange(c, "MAIL FROM", mail, mail);
    if (!m) co_return lost("MAIL FROM");
    if (m->code / 100 != 2) {
      co_await quit();
      co_return reply_end(rec, m->code != 421, "MAIL FROM refused");
    }
    const std::string rcpt = "RCPT TO:<" + opt.recipient + ">";
    auto r = co_await exchange(c, "RCPT TO", rcpt, rcpt);
    if (!r) co_return lost("RCPT TO");
    if (r->code / 100 != 2) {
      co_await quit();
      co_return reply_end(rec, r->code != 421, "RCPT TO refused");
    }
    if (!opt.message) {
      co_await quit();
      co_return reply_end(rec, true, "the recipient would be accepted (RCPT TO)");
    }
    auto d = co_await exchange(c, "DATA", "DATA", "DATA");
    if (!d) co_return lost("DATA");
    if (d->code != 354) {
      co_await quit();
      co_return reply_end(rec, d->code != 421, "DATA refused");
    }
    const std::string payload = smtp::dot_stuff(*opt.message);
    note(c, 'C', "<message: " + std::to_string(opt.message->size()) + " octets, dot-stuffed, then \".\">");
    {
      boost::system::error_code wec;
      auto op = [&]() -> awaitable<void> {
        std::size_t n = 0;
        if (c.tls) std::tie(wec, n) = co_await asio::async_write(*c.tls, asio::buffer(payload), kNoThrow);
        else std::tie(wec, n) = co_await asio::async_write(c.socket, asio::buffer(payload), kNoThrow);
      };
      co_await (op() || guard(c, opt.command_timeout));
      if (wec || c.timed_out) {
        rec.error = c.timed_out ? "timed out sending the message" : wec.message();
        co_return lost("the message data");
      }
    }
    const auto t = Clock::now();
    auto done = co_await read_reply(c);
    if (!done) co_return lost("the reply to the final dot");
    ProbeReply p = explain("end of data", *done, ms_since(t));
    say("     = " + std::to_string(p.code) + " " + p.code_meaning + "  [" + fmt_ms(p.elapsed_ms) + "]");
    if (!p.status_meaning.empty()) say("     = " + p.status_meaning);
    if (!p.category.empty()) say("     = category " + p.category + ": " + p.advice);
    rec.replies.push_back(std::move(p));
    res.sent_data = true;
    SessionEnd e = reply_end(rec, true, done->code / 100 == 2 ? "the message was accepted" : "the message was refused");
    co_await quit();
    co_return e;
  }

  // ---- the whole probe ----
  awaitable<void> run() {
    using K = delivery::NetworkErrorKind;
    res.recipient = opt.recipient;
    res.sender = opt.sender;
    res.domain = std::string(delivery::domain_of(opt.recipient));
    say("Probing <" + opt.recipient + "> from <" + opt.sender + ">" + (opt.message ? " (sending a message)" : " (no message is sent)"));
    if (res.domain.empty()) {
      res.summary = "not an address: " + opt.recipient;
      res.verdict = ProbeVerdict::Unreachable;
      co_return;
    }

    // Where to connect: --host, a [[route]], an address literal or the MX.
    std::uint16_t port = opt.default_port;
    ProbeTls tls = opt.tls;
    std::string auth_user = opt.auth_user, auth_password = opt.auth_password;
    std::string lookup_name;
    bool by_mx = false;
    bool require_tls = false;  // a route's tls = "required": STARTTLS must work, any certificate
    std::vector<delivery::Target> targets;
    if (opt.host) {
      port = opt.port.value_or(opt.default_port);
      res.mx_kind = "host";
      res.route = "--host " + *opt.host;
      boost::system::error_code ec;
      std::string h = *opt.host;
      if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
      auto ip = asio::ip::make_address(h, ec);
      if (!ec) targets.push_back({"[" + ip.to_string() + "]", ip.to_string(), 0});
      else lookup_name = h;
    } else {
      delivery::RouteDefaults defaults;
      defaults.port = opt.default_port;
      auto planned = delivery::plan_route(res.domain, opt.routes, defaults);
      if (auto* err = std::get_if<delivery::NetworkError>(&planned)) {
        finish_local(err->kind, err->detail,
                     err->kind == K::BadAddressLiteral ? ProbeVerdict::Rejected : ProbeVerdict::Unreachable,
                     std::string("no route: ") + delivery::to_string(err->kind) + " " + err->detail);
        co_return;
      }
      const auto& plan = std::get<delivery::RoutePlan>(planned);
      port = opt.port.value_or(plan.port);
      if (tls == ProbeTls::FromConfig) {
        tls = plan.implicit_tls ? ProbeTls::Implicit
              : plan.tls == delivery::TlsPolicy::Verify ? ProbeTls::Verify
              : plan.tls == delivery::TlsPolicy::None   ? ProbeTls::None
                                                        : ProbeTls::Opportunistic;
        require_tls = plan.tls == delivery::TlsPolicy::Required;
      }
      // Verified as delivery verifies: the route's tls_name, and its private CA instead of the
      // system's (the file was checked when the configuration was read).
      route_tls_name = plan.tls_name;
      if (!plan.tls_ca_file.empty()) {
        SSL_CTX_set_cert_store(tls_ctx.native_handle(), X509_STORE_new());
        boost::system::error_code ignored;
        tls_ctx.load_verify_file(plan.tls_ca_file, ignored);
        trust_label = "tls_ca_file " + plan.tls_ca_file;
      }
      if (auth_user.empty()) {
        auth_user = plan.auth_user;
        auth_password = plan.auth_password;
      }
      if (plan.routed) {
        res.mx_kind = "route";
        res.route = "[[route]] for " + res.domain + " → " + plan.name + ":" + std::to_string(port);
      } else {
        res.route = "MX of " + plan.name;
      }
      if (plan.lookup == delivery::RoutePlan::Lookup::Literal && plan.literal) {
        if (!plan.routed) res.mx_kind = "literal";
        targets.push_back({plan.name, plan.literal->str(), 0});
      } else {
        lookup_name = plan.name;
        by_mx = true;
      }
    }
    if (tls == ProbeTls::FromConfig) tls = ProbeTls::Opportunistic;
    say("Next hop: " + res.route + ", port " + std::to_string(port) + ", TLS " +
        (tls == ProbeTls::None ? "none" : tls == ProbeTls::Opportunistic ? "opportunistic" : tls == ProbeTls::Verify ? "verify" : "implicit"));

    if (!lookup_name.empty()) {
      ResolverOptions ropts;
      ropts.servers = opt.dns_servers;
      auto r = Resolver::create(io.get_executor(), ropts);
      if (!r) {
        res.summary = "resolver: " + r.error().message;
        res.verdict = ProbeVerdict::Unreachable;
        co_return;
      }
      resolver = r.value();
      std::vector<delivery::MxHost> hosts;
      delivery::MxPlanOptions mopts;
      mopts.max_addresses = opt.max_addresses;
      if (by_mx) {
        const auto t = Clock::now();
        MxAnswer mx = co_await resolve_mx(lookup_name);
        ProbeDnsStep step{lookup_name, "MX", to_string(mx.status), mx.error, {}, ms_since(t)};
        for (const auto& rec : mx.records)
          step.records.push_back({std::to_string(rec.preference) + " " + (rec.host.empty() ? "." : rec.host), mx.ttl});
        record_dns(std::move(step));
        const delivery::MxAnswer answer = plan_mx_answer(mx);
        auto planned = delivery::plan_mx_hosts(lookup_name, answer, mopts, rand);
        if (auto* e = std::get_if<delivery::NetworkError>(&planned)) {
          if (e->kind == K::DnsNullMx) {
            res.mx_kind = "null";
            say("    null MX (RFC 7505): the domain accepts no mail");
            finish_local(e->kind, "", ProbeVerdict::Rejected, lookup_name + " has a null MX: it accepts no mail (RFC 7505)");
          } else if (e->kind == K::DnsNxDomain) {
            finish_local(e->kind, "", ProbeVerdict::Unreachable, lookup_name + " does not exist (NXDOMAIN)");
          } else {
            finish_local(e->kind, mx.error, e->kind == K::MailLoop ? ProbeVerdict::Rejected : ProbeVerdict::Unreachable,
                         std::string("MX lookup: ") + delivery::to_string(e->kind) + (mx.error.empty() ? "" : " (" + mx.error + ")"));
          }
          co_return;
        }
        hosts = std::get<std::vector<delivery::MxHost>>(planned);
        if (answer.status != delivery::DnsStatus::Ok) {
          if (res.mx_kind.empty()) res.mx_kind = "implicit";
          say("    no MX records: implicit MX, the domain's own address (RFC 5321 §5.1)");
        } else if (res.mx_kind.empty()) {
          res.mx_kind = "mx";
        }
      } else {
        hosts.push_back({delivery::normalize_host(lookup_name), 0});
      }
      std::vector<delivery::HostAddresses> addresses;
      for (const auto& h : hosts) {
        const auto t = Clock::now();
        AddressAnswer a = co_await resolve_addresses(h.host);
        ProbeDnsStep step{h.host, "A/AAAA", to_string(a.status), a.error, {}, ms_since(t)};
        for (const auto& ip : a.addresses) step.records.push_back({ip, a.ttl});
        record_dns(std::move(step));
        addresses.push_back(plan_host_addresses(h.host, a));
      }
      auto planned = delivery::plan_targets(hosts, addresses, mopts);
      if (auto* e = std::get_if<delivery::NetworkError>(&planned)) {
        finish_local(e->kind, e->detail, ProbeVerdict::Unreachable,
                     std::string("no address to connect to: ") + delivery::to_string(e->kind));
        co_return;
      }
      targets = std::get<std::vector<delivery::Target>>(planned);
    }
    std::string order;
    for (const auto& t : targets) order += (order.empty() ? "" : ", ") + relay_name(t);
    say("Delivery order: " + order);

    SessionEnd last;
    last.summary = "no host to connect to";
    for (const auto& target : targets) {
      res.connections.push_back({});
      ProbeConnection& rec = res.connections.back();
      rec.host = target.host;
      rec.ip = target.ip;
      rec.port = port;
      Conn c(io, rec);
      // The certificate should name the host we looked up: the MX (or the route's relay host).
      const std::string verify_name = !route_tls_name.empty()                   ? route_tls_name
                                      : opt.host && target.host.front() == '[' ? *opt.host
                                                                               : target.host;
      last = co_await session(c, target, port, tls, require_tls, verify_name, auth_user, auth_password);
      boost::system::error_code ignored;
      c.socket.close(ignored);
      if (last.final) break;
      if (!last.summary.empty()) say("  -> " + last.summary + (&target != &targets.back() ? "; trying the next host" : ""));
    }
    res.verdict = last.verdict;
    res.summary = last.summary;
    res.final_reply = last.reply;
    res.category = std::string(last.category.category);
    res.advice = std::string(last.category.advice);
    res.detail = std::string(last.category.detail);
  }
};

}  // namespace

Result<ProbeOptions> probe_options_from_config(const config::Config& cfg, const std::string& system_host_name) {
  ProbeOptions o;
  o.ehlo_name = config::effective_hostname(cfg, system_host_name);
  o.default_port = cfg.delivery.port;
  o.max_addresses = cfg.delivery.max_addresses;
  o.connect_timeout = cfg.delivery.connect_timeout;
  for (const auto& s : cfg.dns.servers) o.dns_servers.push_back(s.str());
  auto routes = route_rules(cfg);  // exactly as the delivery agent routes
  if (!routes) return routes.error();
  o.routes = std::move(*routes);
  return o;
}

ProbeResult run_probe(const ProbeOptions& options, const std::function<void(const std::string&)>& progress) {
  Engine engine(options, progress);
  bool done = false;
  asio::co_spawn(engine.io, engine.run(), [&](std::exception_ptr e) {
    done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        engine.res.verdict = ProbeVerdict::Unreachable;
        engine.res.summary = std::string("internal error: ") + ex.what();
      }
    }
  });
  engine.io.run();
  if (engine.resolver) engine.resolver->shutdown();
  if (!done) engine.res.summary = "probe did not finish";
  engine.res.total_ms = ms_since(engine.start);
  return std::move(engine.res);
}

}  // namespace ferry::daemon
