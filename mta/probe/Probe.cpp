// Probe: see Probe.hpp. The same route planner, resolver, MX plan, reply classification and SMTP
// client (ClientSession) as delivery. The session runs lock-step with a transcript observer, so
// each line is shown and each reply explained as it arrives (swaks-style), and it stops after
// RCPT unless a message is to be sent.
#include "mta/probe/Probe.hpp"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <random>

#include "ferry/text/Ascii.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/DanePolicy.hpp"
#include "mta/delivery/EnhancedStatusText.hpp"
#include "mta/delivery/MxPlan.hpp"
#include "mta/delivery/ReplyCategory.hpp"
#include "mta/delivery/ReplyClassifier.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/net/Resolver.hpp"
#include "mta/net/SmtpStream.hpp"
#include "mta/outbound/DnsPlan.hpp"
#include "mta/outbound/StsCache.hpp"
#include "mta/policy/RouteRules.hpp"
#include "mta/smtp/ClientSession.hpp"
#include "mta/smtp/ReplyParser.hpp"
#include "mta/smtp/ServerCapabilities.hpp"

namespace ferry::probe {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

const char* to_string(ProbeVerdict verdict) noexcept {
  switch (verdict) {
    case ProbeVerdict::Accepted:
      return "accepted";
    case ProbeVerdict::Rejected:
      return "rejected";
    case ProbeVerdict::TempFail:
      return "temporary failure";
    case ProbeVerdict::Unreachable:
      return "unreachable";
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

std::string upper(std::string_view in) {
  std::string s(in);
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
  if (auto* names =
          static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        const auto* s = g->d.dNSName;
        info.subject_alt_names.push_back(
            "DNS:" +
            std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s)));
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

// Where and how to connect: the next hop and the targets it resolved to.
struct Hop {
  std::uint16_t port = 25;
  ProbeTls tls = ProbeTls::FromConfig;
  bool require_tls = false;  // a route's tls = "required": STARTTLS must work, any certificate
  std::string auth_user, auth_password;
  std::string lookup_name;  // to resolve (empty: targets are known)
  bool by_mx = false;
  std::vector<delivery::Target> targets;
};

// What one connection's dialogue showed, beyond the replies themselves.
struct Dialogue {
  Clock::time_point sent_at = Clock::now();  // the last command (for the reply's elapsed time)
  std::string waiting_for = "the greeting";  // what a lost connection interrupted
  bool starttls_done = false;
  bool tls_failed = false;       // the handshake after STARTTLS failed
  bool verify_failed = false;    // --tls=verify and the certificate did not verify
  bool tls_not_offered = false;  // TLS required, STARTTLS not offered
  bool lost = false;             // connection lost, timed out or malformed reply
  std::optional<smtp::RecipientResult> result;
};

struct Engine {
  asio::io_context io{1};
  const ProbeOptions& opt;
  std::function<void(const std::string&)> progress;
  ProbeResult res;
  Clock::time_point start = Clock::now();
  std::shared_ptr<net::Resolver> resolver;
  std::mt19937_64 rng{std::random_device{}()};
  delivery::RandomSource rand{[this] { return rng(); }};
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  std::string route_tls_name;                  // a [[route]]'s tls_name: the name to verify
  std::string trust_label = "the system CAs";  // what verification trusted, for the report
  std::map<std::string, std::vector<delivery::TlsaRecord>> dane_records;  // by MX host (RFC 7672)
  bool mx_authenticated = false;  // the MX RRset (or its denial) validated

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

  ProbeReply explain(std::string_view command, const Reply& r, double elapsed) {
    ProbeReply p;
    p.command = std::string(command);
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
    line += step.authenticated ? ", DNSSEC validated" : ", not DNSSEC validated";
    line += " in " + fmt_ms(step.elapsed_ms);
    say(line);
    for (const auto& r : step.records)
      say("    " + r.value + (r.ttl ? "  (TTL " + std::to_string(*r.ttl) + " s)" : "  (TTL: n/a)"));
    res.dns.push_back(std::move(step));
  }

  // ---- one connection ----
  struct Conn {
    net::SmtpStream stream;
    Clock::time_point t0 = Clock::now();
    ProbeConnection& rec;
    Conn(asio::io_context& io, ProbeConnection& r) : stream(io.get_executor()), rec(r) {}
    bool timed_out() const { return stream.timed_out(); }
  };

  void note(Conn& c, char dir, const std::string& text) {
    c.rec.transcript.push_back({dir, text, ms_since(c.t0)});
    say(std::string("  ") + dir + ": " + text);
  }

  // Writes what the session asked for; false with c.rec.error set.
  awaitable<bool> write(Conn& c, const std::string& bytes, bool message_data) {
    const boost::system::error_code ec = co_await c.stream.write(bytes, opt.command_timeout);
    if (ec) {
      if (message_data)
        c.rec.error = c.timed_out() ? "timed out sending the message" : ec.message();
      else
        c.rec.error = c.timed_out() ? "timed out while writing" : "write failed: " + ec.message();
      co_return false;
    }
    co_return true;
  }

  // Reads some bytes of the server's reply; empty with c.rec.error set when the connection failed.
  awaitable<std::string> read_some(Conn& c) {
    char buf[4096];
    const auto [ec, n] = co_await c.stream.read_some(asio::buffer(buf), opt.command_timeout);
    if (c.timed_out())
      c.rec.error = "timed out waiting for the reply";
    else if (ec)
      c.rec.error =
          ec == asio::error::eof ? "connection closed by the server" : "read failed: " + ec.message();
    co_return ec ? std::string() : std::string(buf, n);
  }

  awaitable<bool> handshake(Conn& c, const std::string& verify_name) {
    c.stream.begin_tls(tls_ctx);
    SSL* ssl = c.stream.tls();
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
    const boost::system::error_code ec =
        co_await c.stream.handshake(asio::ssl::stream_base::client, opt.command_timeout);
    info.elapsed_ms = ms_since(t);
    if (ec) {
      info.error = c.timed_out() ? "handshake timed out" : ec.message();
      say("  TLS handshake failed: " + info.error);
      c.rec.tls = std::move(info);
      co_return false;
    }
    info.established = true;
    certificate_info(ssl, info);
    show_certificate(info);
    show_dane(c, ssl, info);
    c.rec.tls = std::move(info);
    co_return true;
  }

  // RFC 7672: the host's usable TLSA records (found by resolve_targets), matched against the
  // certificates the server sent; shown, not enforced (the probe reports, delivery decides).
  void show_dane(Conn& c, SSL* ssl, ProbeTlsInfo& info) {
    auto it = dane_records.find(c.rec.host);
    if (it == dane_records.end()) return;
    info.dane = true;
    info.dane_match = net::tlsa_match(ssl, outbound::net_tlsa(it->second));
    say("    DANE:     " + (info.dane_match.empty()
                                ? std::string("NO TLSA record matches (delivery would defer 4.7.5)")
                                : "the certificate matches a " + info.dane_match + " TLSA record"));
  }

  void show_certificate(const ProbeTlsInfo& info) {
    say("  TLS: " + info.version + ", cipher " + info.cipher + "  [" + fmt_ms(info.elapsed_ms) + "]");
    say("    subject:  " + info.subject);
    std::string sans;
    for (const auto& s : info.subject_alt_names) sans += (sans.empty() ? "" : ", ") + s;
    say("    SANs:     " + (sans.empty() ? std::string("(none)") : sans));
    say("    issuer:   " + info.issuer);
    say("    valid:    " + info.not_before + " until " + info.not_after);
    say("    verified for " + (info.verify_name.empty() ? std::string("(no name)") : info.verify_name) +
        " against " + trust_label + ": " + (info.verified ? "yes" : "NO (" + info.verify_error + ")"));
  }

  // The EHLO keywords as smtp::parse_ehlo read them, each explained.
  void show_capabilities(Conn& c, const smtp::ServerCapabilities& caps) {
    c.rec.capabilities.clear();
    if (caps.keywords.empty()) return;
    say("  Capabilities:");
    for (const auto& k : caps.keywords) {
      ProbeCapability cap{k.keyword, k.parameters, explain_capability(k.keyword, k.parameters)};
      char buf[64];
      std::snprintf(buf, sizeof buf, "    %-20s ", k.line.size() > 20 ? k.keyword.c_str() : k.line.c_str());
      say(std::string(buf) + cap.explanation);
      c.rec.capabilities.push_back(std::move(cap));
    }
  }

  static bool must_tls(const Hop& hop) { return hop.tls == ProbeTls::Verify || hop.require_tls; }
  static bool tries_starttls(const Hop& hop) {
    return hop.tls != ProbeTls::None && hop.tls != ProbeTls::Implicit;
  }

  // The transcript observer: shows each line as it goes, explains each reply, notes the TLS steps.
  void observe(Conn& c, const Hop& hop, Dialogue& d, const smtp::TranscriptEvent& e) {
    using K = smtp::TranscriptKind;
    if (e.kind == K::Sent) {
      note(c, 'C', std::string(e.line));
      d.sent_at = Clock::now();
      if (e.line.starts_with("<")) return;  // AUTH LOGIN's hidden credentials: still AUTH
      const std::string verb = upper(e.line.substr(0, e.line.find_first_of(" :")));
      d.waiting_for = verb == "MAIL" ? "MAIL FROM" : verb == "RCPT" ? "RCPT TO" : verb;
      if (verb == "EHLO" && d.starttls_done) d.waiting_for = "EHLO after STARTTLS";
    } else if (e.kind == K::MessageData) {
      note(c, 'C', "<message: " + std::to_string(e.octets) + " octets, dot-stuffed, then \".\">");
      d.sent_at = Clock::now();
      d.waiting_for = "the message data";
    } else if (e.kind == K::Received) {
      note(c, 'S', std::string(e.line));
    } else {
      explain_reply(c, hop, d, e.command, *e.reply);
    }
  }

  void explain_reply(Conn& c, const Hop& hop, Dialogue& d, std::string_view command, const Reply& reply) {
    ProbeReply p = explain(command, reply, ms_since(d.sent_at));
    say("     = " + std::to_string(p.code) + " " + p.code_meaning + "  [" + fmt_ms(p.elapsed_ms) + "]");
    if (!p.status_meaning.empty()) say("     = " + p.status_meaning);
    if (!p.category.empty())
      say("     = category " + p.category +
          (p.detail.empty() || command == "end of data" ? "" : " (" + p.detail + ")") + ": " + p.advice);
    c.rec.replies.push_back(std::move(p));
    if (command == "EHLO" && reply.code / 100 == 2) {
      const smtp::ServerCapabilities caps = smtp::parse_ehlo(reply.text);
      show_capabilities(c, caps);
      if (tries_starttls(hop) && !d.starttls_done && !caps.starttls) {
        if (must_tls(hop)) {
          d.tls_not_offered = true;
          c.rec.error = "STARTTLS not offered";
        } else {
          say("  STARTTLS not offered: continuing in plaintext (opportunistic)");
        }
      }
    } else if (command == "STARTTLS" && reply.code / 100 != 2 && !must_tls(hop)) {
      say("  STARTTLS refused: continuing in plaintext (opportunistic)");
    }
  }

  smtp::ClientSession make_session(Conn& c, const Hop& hop, Dialogue& d, const delivery::Target& target) {
    smtp::ClientOptions o;
    o.helo_name = opt.ehlo_name;
    o.tls = hop.tls == ProbeTls::None || hop.tls == ProbeTls::Implicit ? smtp::ClientTlsPolicy::None
            : hop.tls == ProbeTls::Verify                              ? smtp::ClientTlsPolicy::Verify
            : hop.require_tls                                          ? smtp::ClientTlsPolicy::Required
                                                                       : smtp::ClientTlsPolicy::Opportunistic;
    o.tls_active = hop.tls == ProbeTls::Implicit;
    o.auth_user = hop.auth_user;
    o.auth_password = hop.auth_password;
    o.auth_over_plaintext = true;  // the operator asked for this dialogue, on this connection
    o.use_pipelining = false;      // one command, one reply, one explanation
    o.stop_after_rcpt = !opt.message;
    o.all_recipients_or_none = true;  // one recipient: its refusal ends the dialogue, no RSET
    o.remote_host = target.host;
    o.remote_ip = target.ip;
    o.remote_port = hop.port;
    o.transcript = [this, &c, &hop, &d](const smtp::TranscriptEvent& e) { observe(c, hop, d, e); };
    Envelope envelope;
    envelope.reverse_path = opt.sender;
    envelope.recipients.push_back(EnvelopeRecipient{opt.recipient, "", kNotifyUnspecified});
    return smtp::ClientSession(std::move(o), std::move(envelope),
                               opt.message ? *opt.message : std::string_view{});
  }

  // After the server's 220 to STARTTLS: the handshake, and the certificate check --tls=verify asks.
  awaitable<void> start_tls(Conn& c, smtp::ClientSession& s, const Hop& hop, Dialogue& d,
                            const std::string& verify_name) {
    // Awaited into a variable, not inside the condition: GCC 12 miscompiled that form here (SIGILL).
    const bool established = co_await handshake(c, verify_name);
    if (!established) {
      d.tls_failed = true;
      c.rec.error = c.rec.tls ? c.rec.tls->error : "handshake failed";
      s.connection_lost("TLS handshake failed");
    } else if (hop.tls == ProbeTls::Verify && !c.rec.tls->verified) {
      d.verify_failed = true;
      c.rec.error = "certificate not verified for " + c.rec.tls->verify_name + ": " + c.rec.tls->verify_error;
      s.finish();  // nothing more over a connection we do not trust
    } else {
      d.starttls_done = true;
      s.tls_started();
    }
  }

  // Drives the session until it closes: perform its actions, read, feed; QUIT once it is idle.
  awaitable<void> converse(Conn& c, smtp::ClientSession& s, const Hop& hop, Dialogue& d,
                           const std::string& verify_name) {
    while (!s.closed() || s.has_action()) {
      for (auto& action : s.take_actions()) {
        if (auto* send = std::get_if<smtp::ClientSend>(&action)) {
          if (!d.lost && !co_await write(c, send->bytes, send->message_data)) d.lost = true;
          if (!d.lost && send->message_data) d.waiting_for = "the reply to the final dot";
        } else if (std::holds_alternative<smtp::ClientStartTls>(action)) {
          if (!d.lost) co_await start_tls(c, s, hop, d, verify_name);
        } else if (auto* done = std::get_if<smtp::ClientDone>(&action)) {
          if (!done->results.empty()) d.result = done->results.front();
        }
      }
      if (d.lost && !s.closed()) s.connection_lost(c.rec.error);
      if (s.closed() || s.has_action()) continue;  // e.g. the EHLO after the TLS handshake
      if (s.idle()) {
        s.finish();
        continue;
      }
      const std::string bytes = co_await read_some(c);
      if (bytes.empty()) {
        d.lost = true;
        continue;
      }
      s.feed(bytes);
    }
  }

  SessionEnd reply_end(const ProbeReply& deciding, bool final, const std::string& what) {
    SessionEnd e;
    e.final = final;
    e.reply = deciding;
    const int code = deciding.code;
    e.verdict = code < 400   ? ProbeVerdict::Accepted
                : code < 500 ? ProbeVerdict::TempFail
                             : ProbeVerdict::Rejected;
    Reply r{code, {}, deciding.text};
    smtp::parse_enhanced_status(deciding.status + " ", r.status);
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

  // The session ended without a deciding reply: TLS trouble, a lost connection, or a refusal the
  // client made itself (no AUTH mechanism, SIZE, 8BITMIME, SMTPUTF8).
  std::optional<SessionEnd> local_conclusion(Conn& c, const Dialogue& d) {
    using K = delivery::NetworkErrorKind;
    auto& rec = c.rec;
    if (d.tls_failed)
      return local_end(rec, K::TlsFailure, ProbeVerdict::TempFail, "STARTTLS handshake failed");
    if (d.verify_failed)
      return local_end(rec, K::TlsFailure, ProbeVerdict::TempFail, "TLS verification failed");
    if (d.tls_not_offered) return local_end(rec, K::TlsNotOffered, ProbeVerdict::TempFail, "TLS is required");
    const std::string malformed = "malformed reply from server: ";
    if (d.result && d.result->attempt.reply.starts_with(malformed)) {
      rec.error = "malformed reply: " + d.result->attempt.reply.substr(malformed.size());
      return local_end(rec, K::ConnectionDropped, ProbeVerdict::TempFail,
                       "connection failed during " + d.waiting_for);
    }
    if (d.lost && d.waiting_for != "QUIT")  // a server that leaves without answering QUIT is fine
      return local_end(rec, K::ConnectionDropped, ProbeVerdict::TempFail,
                       "connection failed during " + d.waiting_for);
    if (d.result && d.result->attempt.code == 0) {
      const Attempt& a = d.result->attempt;
      SessionEnd e;
      e.final = a.outcome == AttemptOutcome::Permanent;
      e.verdict = a.outcome == AttemptOutcome::Permanent ? ProbeVerdict::Rejected : ProbeVerdict::TempFail;
      e.summary = a.status + " " + a.reply;
      e.category = delivery::classify_reply_category(a);
      return e;
    }
    return std::nullopt;
  }

  // The reply that decided (the last one before our QUIT) and what it means for the probe.
  SessionEnd conclusion(Conn& c, const Dialogue& d) {
    if (auto local = local_conclusion(c, d)) return *local;
    auto it = c.rec.replies.rbegin();
    while (it != c.rec.replies.rend() && (it->command == "QUIT" || it->command == "RSET")) ++it;
    if (it == c.rec.replies.rend())
      return local_end(c.rec, delivery::NetworkErrorKind::ConnectionDropped, ProbeVerdict::TempFail,
                       "connection failed during the greeting");
    const ProbeReply& r = *it;
    const bool ok = r.code / 100 == 2;
    const bool not_421 = r.code != 421;
    if (r.command == "greeting") return reply_end(r, false, "the server refused the connection");
    if (r.command == "EHLO")
      return reply_end(r, false, d.starttls_done ? "EHLO after STARTTLS refused" : "EHLO refused");
    if (r.command == "HELO") return reply_end(r, false, "HELO refused");
    if (r.command == "STARTTLS") return reply_end(r, false, "STARTTLS refused, but TLS is required");
    if (r.command == "AUTH") return reply_end(r, true, "authentication refused");
    if (r.command == "MAIL FROM") return reply_end(r, not_421, "MAIL FROM refused");
    if (r.command == "RCPT TO")
      return ok ? reply_end(r, true, "the recipient would be accepted (RCPT TO)")
                : reply_end(r, not_421, "RCPT TO refused");
    if (r.command == "DATA") return reply_end(r, not_421, "DATA refused");
    res.sent_data = true;
    return reply_end(r, true, ok ? "the message was accepted" : "the message was refused");
  }

  // Opens the TCP connection; a SessionEnd when it could not be made.
  awaitable<std::optional<SessionEnd>> connect(Conn& c, const delivery::Target& target, std::uint16_t port) {
    using K = delivery::NetworkErrorKind;
    auto& rec = c.rec;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(target.ip, ec);
    if (ec) {
      rec.error = "not an IP address: " + target.ip;
      co_return local_end(rec, K::BadAddressLiteral, ProbeVerdict::Unreachable, "cannot connect");
    }
    say("Connecting to " + relay_name(target) + ":" + std::to_string(port) + " ...");
    c.stream.socket().open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) ec = co_await c.stream.connect(tcp::endpoint(address, port), opt.connect_timeout);
    rec.connect_ms = ms_since(c.t0);
    if (ec) {
      rec.error = c.timed_out() ? "connect timed out" : ec.message();
      say("  connect failed: " + rec.error + "  [" + fmt_ms(rec.connect_ms) + "]");
      co_return local_end(rec, c.timed_out() ? K::Timeout : K::ConnectRefused, ProbeVerdict::Unreachable,
                          "could not connect to " + relay_name(target));
    }
    rec.connected = true;
    boost::system::error_code ignored;
    c.stream.socket().set_option(tcp::no_delay(true), ignored);
    say("  connected in " + fmt_ms(rec.connect_ms));
    co_return std::nullopt;
  }

  awaitable<SessionEnd> session(Conn& c, const delivery::Target& target, const Hop& hop,
                                const std::string& verify_name) {
    std::optional<SessionEnd> failed = co_await connect(c, target, hop.port);
    if (failed) co_return *failed;
    Dialogue d;
    if (hop.tls == ProbeTls::Implicit) {
      say("  implicit TLS (RFC 8314): handshake before the greeting");
      const bool established = co_await handshake(c, verify_name);  // not in the condition: see start_tls
      if (!established) {
        c.rec.error = c.rec.tls ? c.rec.tls->error : "handshake failed";
        co_return local_end(c.rec, delivery::NetworkErrorKind::TlsFailure, ProbeVerdict::TempFail,
                            "TLS handshake failed");
      }
    }
    smtp::ClientSession s = make_session(c, hop, d, target);
    d.sent_at = Clock::now();
    co_await converse(c, s, hop, d, verify_name);
    co_return conclusion(c, d);
  }

  // ---- the whole probe ----

  // Where to connect: --host, a [[route]], an address literal or the MX. False when the probe
  // already has its answer (no route).
  bool plan_hop(Hop& hop) {
    using K = delivery::NetworkErrorKind;
    hop.port = opt.default_port;
    hop.tls = opt.tls;
    hop.auth_user = opt.auth_user;
    hop.auth_password = opt.auth_password;
    if (opt.host) {
      hop.port = opt.port.value_or(opt.default_port);
      res.mx_kind = "host";
      res.route = "--host " + *opt.host;
      boost::system::error_code ec;
      std::string h = *opt.host;
      if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
      auto ip = asio::ip::make_address(h, ec);
      if (!ec)
        hop.targets.push_back({"[" + ip.to_string() + "]", ip.to_string(), 0});
      else
        hop.lookup_name = h;
      return true;
    }
    delivery::RouteDefaults defaults;
    defaults.port = opt.default_port;
    auto planned = delivery::plan_route(res.domain, opt.routes, defaults);
    if (!planned) {
      const delivery::NetworkError& err = planned.error();
      finish_local(err.kind, err.detail,
                   err.kind == K::BadAddressLiteral ? ProbeVerdict::Rejected : ProbeVerdict::Unreachable,
                   std::string("no route: ") + delivery::to_string(err.kind) + " " + err.detail);
      return false;
    }
    apply_route(hop, *planned);
    return true;
  }

  void apply_route(Hop& hop, const delivery::RoutePlan& plan) {
    hop.port = opt.port.value_or(plan.port);
    if (hop.tls == ProbeTls::FromConfig) {
      hop.tls = plan.implicit_tls                         ? ProbeTls::Implicit
                : plan.tls == delivery::TlsPolicy::Verify ? ProbeTls::Verify
                : plan.tls == delivery::TlsPolicy::None   ? ProbeTls::None
                                                          : ProbeTls::Opportunistic;
      hop.require_tls = plan.tls == delivery::TlsPolicy::Required;
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
    if (hop.auth_user.empty()) {
      hop.auth_user = plan.auth_user;
      hop.auth_password = plan.auth_password;
    }
    if (plan.routed) {
      res.mx_kind = "route";
      res.route = "[[route]] for " + res.domain + " → " + plan.name + ":" + std::to_string(hop.port);
    } else {
      res.route = "MX of " + plan.name;
    }
    if (plan.lookup == delivery::RoutePlan::Lookup::Literal && plan.literal) {
      if (!plan.routed) res.mx_kind = "literal";
      hop.targets.push_back({plan.name, plan.literal->str(), 0});
    } else {
      hop.lookup_name = plan.name;
      hop.by_mx = true;
    }
  }

  // The MX hosts of hop.lookup_name (RFC 5321 §5.1), or the name itself; nullopt when the probe
  // has its answer (null MX, NXDOMAIN, lookup failure).
  awaitable<std::optional<std::vector<delivery::MxHost>>> mx_hosts(const Hop& hop,
                                                                   const delivery::MxPlanOptions& mopts) {
    using K = delivery::NetworkErrorKind;
    const std::string& name = hop.lookup_name;
    if (!hop.by_mx) co_return std::vector<delivery::MxHost>{{delivery::normalize_host(name), 0}};
    const auto t = Clock::now();
    net::MxAnswer mx = co_await net::resolve_mx(*resolver, io.get_executor(), name);
    ProbeDnsStep step{name, "MX", to_string(mx.status), mx.error, {}, ms_since(t), mx.authenticated};
    mx_authenticated = mx.authenticated;
    for (const auto& rec : mx.records)
      step.records.push_back(
          {std::to_string(rec.preference) + " " + (rec.host.empty() ? "." : rec.host), mx.ttl});
    record_dns(std::move(step));
    const delivery::MxAnswer answer = outbound::plan_mx_answer(mx);
    auto planned = delivery::plan_mx_hosts(name, answer, mopts, rand);
    if (!planned) {
      const delivery::NetworkError& e = planned.error();
      if (e.kind == K::DnsNullMx) {
        res.mx_kind = "null";
        say("    null MX (RFC 7505): the domain accepts no mail");
        finish_local(e.kind, "", ProbeVerdict::Rejected,
                     name + " has a null MX: it accepts no mail (RFC 7505)");
      } else if (e.kind == K::DnsNxDomain) {
        finish_local(e.kind, "", ProbeVerdict::Unreachable, name + " does not exist (NXDOMAIN)");
      } else {
        finish_local(e.kind, mx.error,
                     e.kind == K::MailLoop ? ProbeVerdict::Rejected : ProbeVerdict::Unreachable,
                     std::string("MX lookup: ") + delivery::to_string(e.kind) +
                         (mx.error.empty() ? "" : " (" + mx.error + ")"));
      }
      co_return std::nullopt;
    }
    if (answer.status != delivery::DnsStatus::Ok) {
      if (res.mx_kind.empty()) res.mx_kind = "implicit";
      say("    no MX records: implicit MX, the domain's own address (RFC 5321 §5.1)");
    } else if (res.mx_kind.empty()) {
      res.mx_kind = "mx";
    }
    co_return std::move(planned).value();
  }

  // The TLSA records of an MX host whose address answer validated (RFC 7672 §2.2), shown with
  // the delivery agent's decision; usable records are kept for the certificate match.
  awaitable<void> look_up_tlsa(const std::string& host, std::uint16_t port) {
    const auto t = Clock::now();
    const std::string name = delivery::tlsa_name(host, port);
    net::TlsaAnswer answer = co_await net::resolve_tlsa(*resolver, io.get_executor(), name);
    ProbeDnsStep step{name, "TLSA",      to_string(answer.status), answer.error,
                      {},   ms_since(t), answer.authenticated};
    const delivery::TlsaLookup lookup = outbound::plan_tlsa_lookup(answer);
    for (const auto& r : lookup.records)
      step.records.push_back({delivery::to_text(r) + " (" + delivery::usage_name(r.usage) +
                                  (delivery::usable_for_smtp(r) ? "" : ", unusable") + ")",
                              answer.ttl});
    record_dns(std::move(step));
    const delivery::DaneDecision d = delivery::decide_dane(lookup);
    if (d.kind == delivery::DaneDecision::Kind::Dane) {
      dane_records[host] = d.records;
      say("    DANE applies to " + host + ": STARTTLS is mandatory" +
          (d.records.empty() ? " (no usable record: unauthenticated)" : " and the certificate must match"));
    } else if (d.kind == delivery::DaneDecision::Kind::Defer) {
      say("    DANE: " + d.reason + ": delivery would defer this host (4.7.5)");
    }
  }

  // Resolves hop.lookup_name into hop.targets; false when the probe has its answer.
  awaitable<bool> resolve_targets(Hop& hop) {
    net::ResolverOptions ropts;
    ropts.servers = opt.dns_servers;
    ropts.trust_ad = opt.trust_ad;
    auto r = net::Resolver::create(io.get_executor(), ropts);
    if (!r) {
      res.summary = "resolver: " + r.error().message;
      res.verdict = ProbeVerdict::Unreachable;
      co_return false;
    }
    resolver = r.value();
    delivery::MxPlanOptions mopts;
    mopts.max_addresses = opt.max_addresses;
    auto hosts = co_await mx_hosts(hop, mopts);
    if (!hosts) co_return false;
    std::vector<delivery::HostAddresses> addresses;
    for (const auto& h : *hosts) {
      const auto t = Clock::now();
      net::AddressAnswer a = co_await net::resolve_addresses(*resolver, io.get_executor(), h.host);
      ProbeDnsStep step{h.host, "A/AAAA", to_string(a.status), a.error, {}, ms_since(t), a.authenticated};
      for (const auto& ip : a.addresses) step.records.push_back({ip, a.ttl});
      record_dns(std::move(step));
      addresses.push_back(outbound::plan_host_addresses(h.host, a));
      if (hop.by_mx && hop.tls == ProbeTls::Opportunistic && !hop.require_tls &&
          delivery::tlsa_lookup_needed(mx_authenticated, a.authenticated))
        co_await look_up_tlsa(h.host, hop.port);
    }
    auto planned = delivery::plan_targets(*hosts, addresses, mopts);
    if (!planned) {
      const delivery::NetworkError& e = planned.error();
      finish_local(e.kind, e.detail, ProbeVerdict::Unreachable,
                   std::string("no address to connect to: ") + delivery::to_string(e.kind));
      co_return false;
    }
    hop.targets = std::move(planned).value();
    co_return true;
  }

  // One target after the other until a server gives the answer.
  awaitable<void> try_targets(const Hop& hop) {
    SessionEnd last;
    last.summary = "no host to connect to";
    for (const auto& target : hop.targets) {
      res.connections.push_back({});
      ProbeConnection& rec = res.connections.back();
      rec.host = target.host;
      rec.ip = target.ip;
      rec.port = hop.port;
      Conn c(io, rec);
      // The certificate should name the host we looked up: the MX (or the route's relay host).
      const std::string verify_name = !route_tls_name.empty()                  ? route_tls_name
                                      : opt.host && target.host.front() == '[' ? *opt.host
                                                                               : target.host;
      last = co_await session(c, target, hop, verify_name);
      c.stream.close();
      if (last.final) break;
      if (!last.summary.empty())
        say("  -> " + last.summary + (&target != &hop.targets.back() ? "; trying the next host" : ""));
    }
    res.verdict = last.verdict;
    res.summary = last.summary;
    res.final_reply = last.reply;
    res.category = std::string(last.category.category);
    res.advice = std::string(last.category.advice);
    res.detail = std::string(last.category.detail);
  }

  // RFC 8461: the domain's TXT record and policy as a delivery would find them, and which MX
  // host the policy accepts; under enforce the refused hosts are left out, as delivery does.
  awaitable<void> explain_sts(Hop& hop) {
    outbound::StsCache cache(io.get_executor(), resolver, nullptr, nullptr, *opt.mta_sts);
    const std::string domain = text::to_lower(res.domain);
    const outbound::StsOutcome o = co_await cache.policy_for(domain);
    say("MTA-STS: _mta-sts." + res.domain + ": " + o.txt_note);
    if (!o.problem.empty()) say("  policy fetch: " + o.problem);
    if (!o.policy) {
      say("  no MTA-STS policy applies: TLS as without it");
      co_return;
    }
    const bool enforce = o.policy->mode == delivery::StsMode::Enforce;
    std::string patterns;
    for (const auto& p : o.policy->mx) patterns += (patterns.empty() ? "" : ", ") + p;
    say("  policy (" + o.source + "): mode " + delivery::to_string(o.policy->mode) + ", max_age " +
        std::to_string(o.policy->max_age) + ", mx " + patterns);
    std::vector<delivery::Target> kept;
    for (const auto& t : hop.targets) {
      const bool ok = delivery::sts_policy_allows(*o.policy, t.host);
      say("  " + t.host + ": " +
          (ok        ? "accepted (matches the policy; its certificate must be valid for it)"
           : enforce ? "refused (not in the policy)"
                     : "not in the policy (testing: delivery would go on)"));
      if (ok || !enforce) kept.push_back(t);
    }
    hop.targets = std::move(kept);
  }

  awaitable<void> run() {
    res.recipient = opt.recipient;
    res.sender = opt.sender;
    res.domain = std::string(delivery::domain_of(opt.recipient));
    say("Probing <" + opt.recipient + "> from <" + opt.sender + ">" +
        (opt.message ? " (sending a message)" : " (no message is sent)"));
    if (res.domain.empty()) {
      res.summary = "not an address: " + opt.recipient;
      res.verdict = ProbeVerdict::Unreachable;
      co_return;
    }
    Hop hop;
    if (!plan_hop(hop)) co_return;
    if (hop.tls == ProbeTls::FromConfig) hop.tls = ProbeTls::Opportunistic;
    say("Next hop: " + res.route + ", port " + std::to_string(hop.port) + ", TLS " +
        (hop.tls == ProbeTls::None            ? "none"
         : hop.require_tls                    ? "required"  // a smarthost route's tls = "required"
         : hop.tls == ProbeTls::Opportunistic ? "opportunistic"
         : hop.tls == ProbeTls::Verify        ? "verify"
                                              : "implicit"));
    if (!hop.lookup_name.empty() && !co_await resolve_targets(hop)) co_return;
    if (hop.by_mx && res.mx_kind != "route" && opt.mta_sts && opt.mta_sts->enabled && !opt.host)
      co_await explain_sts(hop);
    std::string order;
    for (const auto& t : hop.targets) order += (order.empty() ? "" : ", ") + relay_name(t);
    say("Delivery order: " + order);
    co_await try_targets(hop);
  }
};

}  // namespace

Result<ProbeOptions> probe_options_from_config(const config::Config& cfg,
                                               const std::string& system_host_name) {
  ProbeOptions o;
  o.ehlo_name = config::effective_hostname(cfg, system_host_name);
  o.default_port = cfg.delivery.port;
  o.max_addresses = cfg.delivery.max_addresses;
  o.connect_timeout = cfg.delivery.connect_timeout;
  o.mta_sts = cfg.mta_sts;
  for (const auto& s : cfg.dns.servers) o.dns_servers.push_back(s.str());
  o.trust_ad = cfg.dns.trust_ad;
  auto routes = policy::route_rules(cfg, net::check_ca_file);  // exactly as the delivery agent routes
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

}  // namespace ferry::probe
