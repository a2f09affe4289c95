// ConfigRender: Config -> TOML text (the effective configuration printed by `ferry check-config`).
// Contract: every key is written explicitly, so load_config_text(render(cfg)) == cfg.
#include <cctype>
#include <charconv>
#include <cstdio>
#include <string>

#include "mta/config/Config.hpp"
#include "mta/config/ConfigValues.hpp"

namespace ferry::config {
namespace {

// A TOML basic string (TOML 1.0 §String): escape quote, backslash and control characters.
std::string q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char ch = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Bare keys are A-Za-z0-9_- (TOML 1.0 §Keys); anything else is quoted.
std::string key(std::string_view k) {
  if (k.empty()) return q(k);
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return q(k);
  return std::string(k);
}

std::string size(std::uint64_t bytes) {
  const std::string s = detail::format_size_string(bytes);
  return s.empty() ? std::to_string(bytes) : q(s);
}

// "10%", "12.5%": the shortest text that reads back as the same double.
std::string percent(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? p : buf) + "%";
}

std::string dur(Duration d) { return q(detail::format_duration(d)); }
std::string b(bool v) { return v ? "true" : "false"; }

template <typename T, typename F>
std::string arr(const std::vector<T>& items, F each) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + each(items[i]);
  return out + "]";
}
std::string cidrs(const std::vector<Cidr>& v) {
  return arr(v, [](const Cidr& c) { return q(c.str()); });
}
std::string strings(const std::vector<std::string>& v) {
  return arr(v, [](const std::string& s) { return q(s); });
}

// The rendered file under construction: `key = value` lines and `[table]` headers.
struct Out {
  std::string o;
  void kv(std::string_view k, const std::string& v) {
    o += k;
    o += " = ";
    o += v;
    o += '\n';
  }
  void table(std::string_view header) {
    o += "\n";
    o += header;
    o += "\n";
  }
};

void render_identity(Out& out, const Config& c) {
  out.kv("hostname", q(c.hostname));
  out.kv("user", q(c.user));
}

void render_queue(Out& out, const Config& c) {
  out.table("[queue]");
  out.kv("path", q(c.queue.path));
  out.kv("max_size", size(c.queue.max_size));
  out.kv("sync", b(c.queue.sync));
  const auto& min_free = c.queue.min_free;
  out.kv("min_free", min_free.is_percent ? q(percent(min_free.percent)) : size(min_free.bytes));
  out.kv("maildrop", q(c.queue.maildrop));
  out.kv("events_retain", std::to_string(c.queue.events_retain));
}

void render_listeners(Out& out, const Config& c) {
  for (const Listener& l : c.listen) {
    out.table("[[listen]]");
    out.kv("address", q(l.address));
    out.kv("port", std::to_string(l.port));
    out.kv("mode", q(to_string(l.mode)));
    if (l.relay_networks) out.kv("relay_networks", cidrs(*l.relay_networks));
    out.kv("suppression", b(l.suppression));
  }
}

void render_relay(Out& out, const Config& c) {
  out.table("[relay]");
  out.kv("networks", cidrs(c.relay.networks));
  out.kv("domains", strings(c.relay.domains));
  out.kv("local_domains", strings(c.relay.local_domains));
}

void render_aliases(Out& out, const Config& c) {
  out.table("[aliases]");
  for (const auto& [name, target] : c.aliases) out.kv(key(name), q(target));
}

void render_local(Out& out, const Config& c) {
  out.table("[local]");
  out.kv("admin", q(c.local.admin));
  out.kv("masquerade", q(c.local.masquerade));
}

void render_smtp(Out& out, const Config& c) {
  out.table("[smtp]");
  out.kv("bare_newline", q(to_string(c.smtp.bare_newline)));
  out.kv("max_message_size", size(c.smtp.max_message_size));
  out.kv("max_recipients", std::to_string(c.smtp.max_recipients));
  out.kv("max_errors", std::to_string(c.smtp.max_errors));
  out.kv("max_connections", std::to_string(c.smtp.max_connections));
  out.kv("max_connections_per_ip", std::to_string(c.smtp.max_connections_per_ip));
  out.kv("command_timeout", dur(c.smtp.command_timeout));
  out.kv("data_timeout", dur(c.smtp.data_timeout));
  out.kv("max_received_headers", std::to_string(c.smtp.max_received_headers));
  out.kv("transaction_timeout", dur(c.smtp.transaction_timeout));
  out.kv("junk_command_limit", std::to_string(c.smtp.junk_command_limit));
  out.kv("stress_command_timeout", dur(c.smtp.stress_command_timeout));
  out.kv("max_pending_bytes", size(c.smtp.max_pending_bytes));
  out.kv("limit_relay_networks", b(c.smtp.limit_relay_networks));
}

void render_tls(Out& out, const Config& c) {
  out.table("[tls]");
  out.kv("certificate", q(c.tls.certificate));
  out.kv("key", q(c.tls.key));
}

void render_auth(Out& out, const Config& c) {
  out.table("[auth]");
  out.kv("password_file", q(c.auth.password_file));
  out.kv("allow_plaintext_loopback", b(c.auth.allow_plaintext_loopback));
  out.kv("on_relay_listeners", b(c.auth.on_relay_listeners));
}

void render_delivery(Out& out, const Config& c) {
  const auto& d = c.delivery;
  out.table("[delivery]");
  out.kv("port", std::to_string(d.port));
  out.kv("max_connections", std::to_string(d.max_connections));
  out.kv("max_per_destination", std::to_string(d.max_per_destination));
  out.kv("initial_per_destination", std::to_string(d.initial_per_destination));
  out.kv("max_addresses", std::to_string(d.max_addresses));
  out.kv("connect_timeout", dur(d.connect_timeout));
  out.kv("greeting_timeout", dur(d.greeting_timeout));
  out.kv("mail_timeout", dur(d.mail_timeout));
  out.kv("rcpt_timeout", dur(d.rcpt_timeout));
  out.kv("data_init_timeout", dur(d.data_init_timeout));
  out.kv("data_block_timeout", dur(d.data_block_timeout));
  out.kv("data_done_timeout", dur(d.data_done_timeout));
  out.kv("idle_timeout", dur(d.idle_timeout));
  out.kv("tls_fallback_memory", dur(d.tls_fallback_memory));
}

void render_dns(Out& out, const Config& c) {
  out.table("[dns]");
  out.kv("servers", arr(c.dns.servers, [](const SocketAddress& s) { return q(s.str()); }));
  out.kv("trust_ad", b(c.dns.trust_ad));
}

void render_retry(Out& out, const Config& c) {
  out.table("[retry]");
  out.kv("first", dur(c.retry.first));
  out.kv("max_interval", dur(c.retry.max_interval));
  out.kv("multiplier", detail::format_double(c.retry.multiplier));
  out.kv("jitter", detail::format_double(c.retry.jitter));
  out.kv("max_age", dur(c.retry.max_age));
  out.kv("after_crash", dur(c.retry.after_crash));
  out.kv("after_greylist", dur(c.retry.after_greylist));
}

// Zero counts and an empty rate are the defaults and have no TOML spelling (counts are >= 1).
void render_pace(Out& out, const Config& c) {
  for (const PaceRule& r : c.pace) {
    out.table("[[pace]]");
    if (!r.domain.empty()) out.kv("domain", q(r.domain));
    if (!r.mx.empty()) out.kv("mx", q(r.mx));
    if (!r.rate.empty()) out.kv("rate", q(r.rate));
    if (r.burst) out.kv("burst", std::to_string(r.burst));
    if (r.connections) out.kv("connections", std::to_string(r.connections));
    if (r.messages_per_connection)
      out.kv("messages_per_connection", std::to_string(r.messages_per_connection));
    out.kv("backoff_period", dur(r.backoff_period));
  }
}

void render_routes(Out& out, const Config& c) {
  for (const Route& r : c.routes) {
    out.table("[[route]]");
    out.kv("domain", q(r.domain));
    out.kv("host", q(r.host_is_literal ? "[" + r.host + "]" : r.host));
    if (r.port) out.kv("port", std::to_string(*r.port));
    out.kv("tls", q(to_string(r.tls)));
    out.kv("implicit_tls", b(r.implicit_tls));
    out.kv("auth_user", q(r.auth_user));
    out.kv("auth_password_file", q(r.auth_password_file));
    out.kv("source_address", q(r.source_address));
    out.kv("tls_name", q(r.tls_name));
    out.kv("tls_ca_file", q(r.tls_ca_file));
  }
}

void render_bounce(Out& out, const Config& c) {
  out.table("[bounce]");
  out.kv("delay_warning", dur(c.bounce.delay_warning));
  out.kv("postmaster", q(c.bounce.postmaster));
  out.kv("max_return_size", size(c.bounce.max_return_size));
}

void render_tls_report(Out& out, const Config& c) {
  out.table("[tls_report]");
  out.kv("enabled", b(c.tls_report.enabled));
  out.kv("organization", q(c.tls_report.organization));
  out.kv("contact", q(c.tls_report.contact));
  out.kv("from", q(c.tls_report.from));
}

void render_mta_sts(Out& out, const Config& c) {
  out.table("[mta_sts]");
  out.kv("enabled", b(c.mta_sts.enabled));
  out.kv("ca_file", q(c.mta_sts.ca_file));
  out.kv("https_port", std::to_string(c.mta_sts.https_port));
}

void render_suppression(Out& out, const Config& c) {
  out.table("[suppression]");
  out.kv("enabled", b(c.suppression.enabled));
  out.kv("ttl", dur(c.suppression.ttl));
}

// Only when [cluster] is present: its absence means no Redis, and must stay absent.
void render_cluster(Out& out, const Config& c) {
  if (!c.cluster) return;
  const auto& k = *c.cluster;
  out.table("[cluster]");
  out.kv("redis", q(k.redis));
  out.kv("password_file", q(k.password_file));
  out.kv("node_name", q(k.node_name));
  out.kv("timeout", dur(k.timeout));
  out.kv("expected_nodes", std::to_string(k.expected_nodes));
  out.kv("heartbeat", dur(k.heartbeat));
  out.kv("lease", dur(k.lease));
}

void render_log(Out& out, const Config& c) {
  out.table("[log]");
  out.kv("format", q(to_string(c.log.format)));
}

void render_metrics(Out& out, const Config& c) {
  out.table("[metrics]");
  out.kv("listen", q(c.metrics.listen ? c.metrics.listen->str() : std::string()));
}

void render_dkim(Out& out, const Config& c) {
  for (const DkimEntry& d : c.dkim) {
    out.table("[[dkim]]");
    out.kv("domain", q(d.domain));
    out.kv("selector", q(d.selector));
    out.kv("key", q(d.key));
    out.kv("canonicalization", q(std::string(to_string(d.header_canonicalization)) + "/" +
                                 std::string(to_string(d.body_canonicalization))));
    out.kv("headers", strings(d.headers));
    out.kv("sign_subdomains", b(d.sign_subdomains));
    out.kv("expire", dur(d.expire));
  }
}

void render_events(Out& out, const Config& c) {
  for (const EventSink& s : c.events) {
    out.table("[[events]]");
    if (!s.webhook.empty()) out.kv("webhook", q(s.webhook));
    if (!s.file.empty()) out.kv("file", q(s.file));
    if (!s.secret_file.empty()) out.kv("secret_file", q(s.secret_file));
    if (!s.ca_file.empty()) out.kv("ca_file", q(s.ca_file));
    out.kv("batch", std::to_string(s.batch));
    out.kv("timeout", dur(s.timeout));
    out.kv("retry_first", dur(s.retry_first));
    out.kv("retry_max", dur(s.retry_max));
  }
}

void render_http(Out& out, const Config& c) {
  for (const HttpListener& h : c.http) {
    out.table("[[http]]");
    out.kv("listen", q(h.listen.str()));
    out.kv("token_file", q(h.token_file));
  }
}

}  // namespace

// One function per table, in the order of the embedded default file.
std::string render(const Config& c) {
  Out out;
  render_identity(out, c);
  render_queue(out, c);
  render_listeners(out, c);
  render_relay(out, c);
  render_aliases(out, c);
  render_local(out, c);
  render_smtp(out, c);
  render_tls(out, c);
  render_auth(out, c);
  render_delivery(out, c);
  render_dns(out, c);
  render_retry(out, c);
  render_routes(out, c);
  render_pace(out, c);
  render_bounce(out, c);
  render_tls_report(out, c);
  render_mta_sts(out, c);
  render_suppression(out, c);
  render_cluster(out, c);
  render_log(out, c);
  render_metrics(out, c);
  render_dkim(out, c);
  render_events(out, c);
  render_http(out, c);
  return out.o;
}

}  // namespace ferry::config
