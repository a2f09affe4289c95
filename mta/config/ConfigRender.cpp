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
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
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

}  // namespace

std::string render(const Config& c) {
  std::string o;
  const auto kv = [&o](std::string_view k, const std::string& v) {
    o += k;
    o += " = ";
    o += v;
    o += '\n';
  };

  kv("hostname", q(c.hostname));
  kv("user", q(c.user));

  o += "\n[queue]\n";
  kv("path", q(c.queue.path));
  kv("max_size", size(c.queue.max_size));
  kv("sync", b(c.queue.sync));
  kv("min_free", c.queue.min_free.is_percent ? q(percent(c.queue.min_free.percent)) : size(c.queue.min_free.bytes));
  kv("maildrop", q(c.queue.maildrop));

  for (const Listener& l : c.listen) {
    o += "\n[[listen]]\n";
    kv("address", q(l.address));
    kv("port", std::to_string(l.port));
    kv("mode", q(to_string(l.mode)));
    if (l.relay_networks) kv("relay_networks", cidrs(*l.relay_networks));
  }

  o += "\n[relay]\n";
  kv("networks", cidrs(c.relay.networks));
  kv("domains", strings(c.relay.domains));
  kv("local_domains", strings(c.relay.local_domains));

  o += "\n[aliases]\n";
  for (const auto& [name, target] : c.aliases) kv(key(name), q(target));

  o += "\n[smtp]\n";
  kv("bare_newline", q(to_string(c.smtp.bare_newline)));
  kv("max_message_size", size(c.smtp.max_message_size));
  kv("max_recipients", std::to_string(c.smtp.max_recipients));
  kv("max_errors", std::to_string(c.smtp.max_errors));
  kv("max_connections", std::to_string(c.smtp.max_connections));
  kv("max_connections_per_ip", std::to_string(c.smtp.max_connections_per_ip));
  kv("command_timeout", dur(c.smtp.command_timeout));
  kv("data_timeout", dur(c.smtp.data_timeout));
  kv("max_received_headers", std::to_string(c.smtp.max_received_headers));
  kv("transaction_timeout", dur(c.smtp.transaction_timeout));
  kv("junk_command_limit", std::to_string(c.smtp.junk_command_limit));
  kv("stress_command_timeout", dur(c.smtp.stress_command_timeout));
  kv("max_pending_bytes", size(c.smtp.max_pending_bytes));
  kv("limit_relay_networks", b(c.smtp.limit_relay_networks));

  o += "\n[tls]\n";
  kv("certificate", q(c.tls.certificate));
  kv("key", q(c.tls.key));

  o += "\n[auth]\n";
  kv("password_file", q(c.auth.password_file));
  kv("allow_plaintext_loopback", b(c.auth.allow_plaintext_loopback));
  kv("on_relay_listeners", b(c.auth.on_relay_listeners));

  const auto& d = c.delivery;
  o += "\n[delivery]\n";
  kv("port", std::to_string(d.port));
  kv("max_connections", std::to_string(d.max_connections));
  kv("max_per_destination", std::to_string(d.max_per_destination));
  kv("initial_per_destination", std::to_string(d.initial_per_destination));
  kv("max_addresses", std::to_string(d.max_addresses));
  kv("connect_timeout", dur(d.connect_timeout));
  kv("greeting_timeout", dur(d.greeting_timeout));
  kv("mail_timeout", dur(d.mail_timeout));
  kv("rcpt_timeout", dur(d.rcpt_timeout));
  kv("data_init_timeout", dur(d.data_init_timeout));
  kv("data_block_timeout", dur(d.data_block_timeout));
  kv("data_done_timeout", dur(d.data_done_timeout));
  kv("idle_timeout", dur(d.idle_timeout));
  kv("tls_fallback_memory", dur(d.tls_fallback_memory));

  o += "\n[dns]\n";
  kv("servers", arr(c.dns.servers, [](const SocketAddress& s) { return q(s.str()); }));

  o += "\n[retry]\n";
  kv("first", dur(c.retry.first));
  kv("max_interval", dur(c.retry.max_interval));
  kv("multiplier", detail::format_double(c.retry.multiplier));
  kv("jitter", detail::format_double(c.retry.jitter));
  kv("max_age", dur(c.retry.max_age));
  kv("after_crash", dur(c.retry.after_crash));

  for (const Route& r : c.routes) {
    o += "\n[[route]]\n";
    kv("domain", q(r.domain));
    kv("host", q(r.host_is_literal ? "[" + r.host + "]" : r.host));
    if (r.port) kv("port", std::to_string(*r.port));
    kv("tls", q(to_string(r.tls)));
    kv("implicit_tls", b(r.implicit_tls));
    kv("auth_user", q(r.auth_user));
    kv("auth_password_file", q(r.auth_password_file));
    kv("source_address", q(r.source_address));
    kv("tls_name", q(r.tls_name));
    kv("tls_ca_file", q(r.tls_ca_file));
  }

  o += "\n[bounce]\n";
  kv("delay_warning", dur(c.bounce.delay_warning));
  kv("postmaster", q(c.bounce.postmaster));
  kv("max_return_size", size(c.bounce.max_return_size));

  o += "\n[log]\n";
  kv("format", q(to_string(c.log.format)));

  o += "\n[metrics]\n";
  kv("listen", q(c.metrics.listen ? c.metrics.listen->str() : std::string()));

  for (const DkimEntry& d : c.dkim) {
    o += "\n[[dkim]]\n";
    kv("domain", q(d.domain));
    kv("selector", q(d.selector));
    kv("key", q(d.key));
    kv("canonicalization",
       q(std::string(to_string(d.header_canonicalization)) + "/" + std::string(to_string(d.body_canonicalization))));
    kv("headers", strings(d.headers));
    kv("sign_subdomains", b(d.sign_subdomains));
    kv("expire", dur(d.expire));
  }
  return o;
}

}  // namespace ferry::config
