// ConfigLoader: TOML (toml++) -> Config, overlaying the file on the embedded default.
// Contract: every error names file:line:column and the dotted key path; toml++ types never leave
// this translation unit (toml++ is a heavy header; every other module sees std types only).
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>

#include "ferry/text/Rate.hpp"
#include "mta/config/Config.hpp"
#include "mta/config/ConfigValues.hpp"

namespace ferry::config {
namespace {

using detail::to_lower;

constexpr std::string_view kEmbeddedName = "<embedded>";
constexpr std::int64_t kMaxCount = 1'000'000;

// Thrown inside the loader only; load_config_text turns it into a value.
struct Failure {
  ConfigError error;
};

struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::uint64_t seq = 0;  // later assignments win (overlay order)
};

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
  }
  return "unknown";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

using detail::quoted;

using Handler = std::function<void(const toml::node&, const std::string&)>;
using Field = std::pair<std::string_view, Handler>;

class Loader {
 public:
  explicit Loader(Config& cfg) : cfg_(cfg) {}

  void apply(std::string_view text, std::string_view file) {
    file_ = std::string(file);
    toml::table root;
    try {
      root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      throw Failure{ConfigError{
          file_, static_cast<int>(b.line), static_cast<int>(b.column), {}, std::string(e.description())}};
    }
    top(root);
  }

  // Rules that relate several keys, checked once every layer is applied.
  void check_relations() {
    using detail::format_duration;
    const auto& r = cfg_.retry;
    if (r.first > r.max_interval)
      fail_later(
          "retry.first", "must not exceed retry.max_interval (" + format_duration(r.max_interval) + ")",
          "retry.max_interval", "must not be less than retry.first (" + format_duration(r.first) + ")");
    if (cfg_.tls.certificate.empty() != cfg_.tls.key.empty())
      fail_later("tls.certificate", "set tls.key too (both or neither)", "tls.key",
                 "set tls.certificate too (both or neither)");
    const auto& d = cfg_.delivery;
    if (d.max_per_destination > d.max_connections)
      fail_later("delivery.max_per_destination",
                 "must not exceed delivery.max_connections (" + std::to_string(d.max_connections) + ")",
                 "delivery.max_connections",
                 "must not be less than delivery.max_per_destination (" +
                     std::to_string(d.max_per_destination) + ")");
    const auto& s = cfg_.smtp;
    if (s.max_connections_per_ip > s.max_connections)
      fail_later("smtp.max_connections_per_ip",
                 "must not exceed smtp.max_connections (" + std::to_string(s.max_connections) + ")",
                 "smtp.max_connections",
                 "must not be less than smtp.max_connections_per_ip (" +
                     std::to_string(s.max_connections_per_ip) + ")");
    // RFC 8460 §4.4: organization-name and contact-info are required fields of every report.
    const auto& tr = cfg_.tls_report;
    if (tr.enabled && tr.organization.empty())
      fail_later("tls_report.enabled", "needs tls_report.organization (the reports' organization-name)",
                 "tls_report.organization", "must not be empty while tls_report.enabled is true");
    if (tr.enabled && tr.contact.empty())
      fail_later("tls_report.enabled", "needs tls_report.contact (the reports' contact-info)",
                 "tls_report.contact", "must not be empty while tls_report.enabled is true");
  }

 private:
  // ---- errors and positions -------------------------------------------------------------

  [[noreturn]] void fail(const toml::source_region& r, const std::string& path, std::string msg) const {
    throw Failure{ConfigError{file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column), path,
                              std::move(msg)}};
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& path, std::string msg) const {
    fail(n.source(), path, std::move(msg));
  }
  [[noreturn]] void wrong_type(const toml::node& n, const std::string& path,
                               std::string_view expected) const {
    fail(n, path, "expected " + std::string(expected) + ", got " + std::string(type_name(n.type())));
  }
  // Reports a broken relation between two keys at whichever was set last (the user's edit).
  [[noreturn]] void fail_later(const std::string& a, std::string msg_a, const std::string& b,
                               std::string msg_b) const {
    const Where wa = where(a), wb = where(b);
    if (wb.seq > wa.seq) throw Failure{ConfigError{wb.file, wb.line, wb.column, b, std::move(msg_b)}};
    throw Failure{ConfigError{wa.file, wa.line, wa.column, a, std::move(msg_a)}};
  }
  Where where(const std::string& path) const {
    auto it = where_.find(path);
    return it == where_.end() ? Where{} : it->second;
  }
  void note(const std::string& path, const toml::node& n) {
    where_[path] = Where{file_, static_cast<int>(n.source().begin.line),
                         static_cast<int>(n.source().begin.column), ++seq_};
  }

  // Dispatches each key of `t` to its field handler; any other key is an error.
  void fields(const toml::table& t, const std::string& prefix, std::initializer_list<Field> known) {
    for (auto&& [k, v] : t) {
      const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      auto it = std::find_if(known.begin(), known.end(), [&](const Field& f) { return f.first == k.str(); });
      if (it == known.end()) {
        std::string msg = "unknown key";
        std::string_view best;
        std::size_t best_d = 3;
        for (const Field& f : known)
          if (const auto d = edit_distance(k.str(), f.first); d < best_d) best_d = d, best = f.first;
        if (!best.empty()) msg += "; did you mean " + quoted(best) + "?";
        fail(k.source().begin.line ? k.source() : v.source(), path, std::move(msg));
      }
      note(path, v);
      it->second(v, path);
    }
  }

  // ---- typed readers --------------------------------------------------------------------

  const toml::table& table(const toml::node& n, const std::string& p) const {
    if (const auto* t = n.as_table()) return *t;
    wrong_type(n, p, "table");
  }
  const toml::array& array(const toml::node& n, const std::string& p) const {
    if (const auto* a = n.as_array()) return *a;
    wrong_type(n, p, "array");
  }
  const toml::array& tables(const toml::node& n, const std::string& p) const {
    if (const auto* a = n.as_array()) return *a;
    wrong_type(n, p, "array of tables");
  }
  std::string str(const toml::node& n, const std::string& p) const {
    if (const auto* s = n.as_string()) return s->get();
    wrong_type(n, p, "string");
  }
  std::string nonempty(const toml::node& n, const std::string& p) const {
    std::string s = str(n, p);
    if (s.empty()) fail(n, p, "must not be empty");
    return s;
  }
  bool boolean(const toml::node& n, const std::string& p) const {
    if (const auto* b = n.as_boolean()) return b->get();
    wrong_type(n, p, "boolean");
  }
  std::int64_t integer(const toml::node& n, const std::string& p, std::int64_t lo, std::int64_t hi) const {
    const auto* i = n.as_integer();
    if (!i) wrong_type(n, p, "integer");
    const std::int64_t v = i->get();
    if (v < lo || v > hi)
      fail(n, p,
           "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
               std::to_string(v));
    return v;
  }
  std::uint16_t port(const toml::node& n, const std::string& p) const {
    return static_cast<std::uint16_t>(integer(n, p, 1, 65535));
  }
  // A listener may use port 0: the kernel picks a free port and the daemon logs it (tests).
  std::uint16_t listen_port(const toml::node& n, const std::string& p) const {
    return static_cast<std::uint16_t>(integer(n, p, 0, 65535));
  }
  std::uint32_t count(const toml::node& n, const std::string& p) const {
    return static_cast<std::uint32_t>(integer(n, p, 1, kMaxCount));
  }
  double number(const toml::node& n, const std::string& p) const {
    double v = 0;
    if (const auto* f = n.as_floating_point())
      v = f->get();
    else if (const auto* i = n.as_integer())
      v = static_cast<double>(i->get());
    else
      wrong_type(n, p, "float");
    if (!std::isfinite(v)) fail(n, p, "must be a finite number");
    return v;
  }
  Duration duration(const toml::node& n, const std::string& p) const {
    if (const auto* i = n.as_integer()) {
      if (i->get() < 0) fail(n, p, "must not be negative, got " + std::to_string(i->get()));
      if (auto d = parse_duration(std::to_string(i->get()))) return *d;
      fail(n, p, "duration too large");
    }
    const auto* s = n.as_string();
    if (!s) wrong_type(n, p, "string or integer");
    if (auto d = parse_duration(s->get())) return *d;
    fail(n, p,
         "invalid duration " + quoted(s->get()) +
             " (expected a number with unit ms, s, m, h or d, e.g. \"30s\"; a bare number is seconds)");
  }
  Duration positive_duration(const toml::node& n, const std::string& p) const {
    const Duration d = duration(n, p);
    if (d.count() == 0) fail(n, p, "must be greater than 0");
    return d;
  }
  std::uint64_t size(const toml::node& n, const std::string& p) const {
    if (const auto* i = n.as_integer()) {
      if (i->get() < 0) fail(n, p, "must not be negative, got " + std::to_string(i->get()));
      return static_cast<std::uint64_t>(i->get());
    }
    const auto* s = n.as_string();
    if (!s) wrong_type(n, p, "string or integer");
    if (auto v = parse_size(s->get())) return *v;
    fail(n, p,
         "invalid size " + quoted(s->get()) +
             " (expected a number with unit B, KB, MB, GB, KiB, MiB or GiB, e.g. \"25MiB\"; a bare number is "
             "bytes)");
  }
  std::uint64_t size_at_least(const toml::node& n, const std::string& p, std::uint64_t min,
                              std::string_view min_text) {
    const std::uint64_t v = size(n, p);
    if (v < min) {
      const std::string got = detail::format_size_string(v);
      fail(n, p,
           "must be at least " + std::string(min_text) + ", got " + (got.empty() ? std::to_string(v) : got));
    }
    return v;
  }
  template <typename E>
  E choice(const toml::node& n, const std::string& p, std::initializer_list<E> values) const {
    const std::string s = str(n, p);
    std::string names;
    std::size_t i = 0;
    for (E e : values) {
      if (to_string(e) == s) return e;
      names += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + std::string(to_string(e));
      ++i;
    }
    fail(n, p, "invalid value " + quoted(s) + " (expected " + names + ")");
  }
  std::string ip(const toml::node& n, const std::string& p) const {
    const std::string s = str(n, p);
    if (auto c = detail::canonical_ip(s)) return *c;
    fail(n, p, quoted(s) + " is not an IP address");
  }
  std::string domain(const toml::node& n, const std::string& p) const {
    const std::string s = str(n, p);
    if (!detail::is_domain(s)) fail(n, p, quoted(s) + " is not a valid domain name");
    return to_lower(s);
  }
  std::string mail_address(const toml::node& n, const std::string& p) const {
    const std::string s = str(n, p);
    if (!detail::is_mail_address(s)) fail(n, p, quoted(s) + " is not a mail address (local@domain)");
    return s;
  }
  // An array whose elements are read by `each(element, "path[i]")`.
  template <typename T, typename F>
  std::vector<T> list(const toml::node& n, const std::string& p, F each) const {
    std::vector<T> out;
    const toml::array& a = array(n, p);
    for (std::size_t i = 0; i < a.size(); ++i)
      out.push_back(each(*a.get(i), p + "[" + std::to_string(i) + "]"));
    return out;
  }
  std::vector<Cidr> cidrs(const toml::node& n, const std::string& p) const {
    return list<Cidr>(n, p, [&](const toml::node& e, const std::string& ep) {
      auto r = detail::parse_cidr_checked(str(e, ep));
      if (!r) fail(e, ep, r.error());
      return *r;
    });
  }
  std::vector<std::string> domains(const toml::node& n, const std::string& p) const {
    return list<std::string>(n, p, [&](const toml::node& e, const std::string& ep) { return domain(e, ep); });
  }
  SocketAddress socket_address(const toml::node& n, const std::string& p, std::optional<std::uint16_t> dflt,
                               bool allow_port_zero = false) const {
    auto r = detail::parse_socket_address(str(n, p), dflt, allow_port_zero);
    if (!r) fail(n, p, r.error());
    return *r;
  }

  // ---- sections -------------------------------------------------------------------------

  void top(const toml::table& root) {
    fields(root, "",
           {
               {"hostname",
                [&](auto& n, auto& p) {
                  const std::string s = str(n, p);
                  if (!s.empty() && !detail::is_domain(s))
                    fail(n, p, quoted(s) + " is not a valid host name");
                  cfg_.hostname = to_lower(s);
                }},
               {"user", [&](auto& n, auto& p) { cfg_.user = nonempty(n, p); }},
               {"queue", [&](auto& n, auto& p) { queue(table(n, p), p); }},
               {"listen", [&](auto& n, auto& p) { listeners(n, p); }},
               {"relay", [&](auto& n, auto& p) { relay(table(n, p), p); }},
               {"aliases", [&](auto& n, auto& p) { aliases(table(n, p), p); }},
               {"local", [&](auto& n, auto& p) { local(table(n, p), p); }},
               {"smtp", [&](auto& n, auto& p) { smtp(table(n, p), p); }},
               {"tls", [&](auto& n, auto& p) { tls(table(n, p), p); }},
               {"auth", [&](auto& n, auto& p) { auth(table(n, p), p); }},
               {"delivery", [&](auto& n, auto& p) { delivery(table(n, p), p); }},
               {"dns", [&](auto& n, auto& p) { dns(table(n, p), p); }},
               {"retry", [&](auto& n, auto& p) { retry(table(n, p), p); }},
               {"route", [&](auto& n, auto& p) { routes(n, p); }},
               {"pace", [&](auto& n, auto& p) { pace_rules(n, p); }},
               {"bounce", [&](auto& n, auto& p) { bounce(table(n, p), p); }},
               {"tls_report", [&](auto& n, auto& p) { tls_report(table(n, p), p); }},
               {"mta_sts", [&](auto& n, auto& p) { mta_sts(table(n, p), p); }},
               {"suppression", [&](auto& n, auto& p) { suppression(table(n, p), p); }},
               {"cluster", [&](auto& n, auto& p) { cluster(table(n, p), p); }},
               {"log", [&](auto& n, auto& p) { log(table(n, p), p); }},
               {"metrics", [&](auto& n, auto& p) { metrics(table(n, p), p); }},
               {"dkim", [&](auto& n, auto& p) { dkim(n, p); }},
               {"events", [&](auto& n, auto& p) { event_sinks(n, p); }},
               {"http", [&](auto& n, auto& p) { http(n, p); }},
           });
  }

  void queue(const toml::table& t, const std::string& path) {
    auto& q = cfg_.queue;
    fields(t, path,
           {
               {"path", [&](auto& n, auto& p) { q.path = nonempty(n, p); }},
               {"max_size", [&](auto& n, auto& p) { q.max_size = size_at_least(n, p, 1ull << 20, "1MiB"); }},
               {"sync", [&](auto& n, auto& p) { q.sync = boolean(n, p); }},
               {"min_free", [&](auto& n, auto& p) { q.min_free = min_free(n, p); }},
               {"maildrop", [&](auto& n, auto& p) { q.maildrop = str(n, p); }},
               {"events_retain",
                [&](auto& n, auto& p) {
                  q.events_retain = static_cast<std::uint64_t>(integer(n, p, 0, 10'000'000));
                }},
           });
  }

  MinFree min_free(const toml::node& n, const std::string& p) const {
    MinFree m;
    const auto* s = n.as_string();
    if (s && !s->get().empty() && s->get().back() == '%') {
      const std::string& text = s->get();
      double v = -1;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, v);
      if (ec != std::errc() || end != text.data() + text.size() - 1 || !(v >= 0 && v < 100) ||
          !std::isdigit(static_cast<unsigned char>(text.front())))
        fail(n, p, "invalid percentage " + quoted(text) + " (expected 0% to below 100%, e.g. \"10%\")");
      m.is_percent = true;
      m.percent = v;
      return m;
    }
    m.is_percent = false;
    m.percent = 0;
    m.bytes = size(n, p);
    return m;
  }

  void listeners(const toml::node& n, const std::string& p) {
    const toml::array& a = tables(n, p);
    if (a.empty()) fail(n, p, "at least one [[listen]] is required");
    std::vector<Listener> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      Listener l;
      bool has_address = false, has_port = false, has_mode = false;
      fields(t, ep,
             {
                 {"address",
                  [&](auto& n2, auto& p2) {
                    l.address = ip(n2, p2);
                    has_address = true;
                  }},
                 {"port",
                  [&](auto& n2, auto& p2) {
                    l.port = listen_port(n2, p2);
                    has_port = true;
                  }},
                 {"mode",
                  [&](auto& n2, auto& p2) {
                    l.mode =
                        choice(n2, p2, {ListenMode::Relay, ListenMode::Submission, ListenMode::Submissions});
                    has_mode = true;
                  }},
                 {"relay_networks", [&](auto& n2, auto& p2) { l.relay_networks = cidrs(n2, p2); }},
                 {"suppression", [&](auto& n2, auto& p2) { l.suppression = boolean(n2, p2); }},
             });
      if (!has_address) fail(t, ep + ".address", "required key is missing");
      if (!has_port) fail(t, ep + ".port", "required key is missing");
      if (!has_mode) fail(t, ep + ".mode", "required key is missing (relay, submission or submissions)");
      for (std::size_t j = 0; j < out.size(); ++j)
        // Port 0 asks the kernel for a free port: several such listeners never collide.
        if (l.port != 0 && out[j].address == l.address && out[j].port == l.port)
          fail(t, ep, "same address and port as " + p + "[" + std::to_string(j) + "]");
      out.push_back(std::move(l));
    }
    cfg_.listen = std::move(out);  // arrays replace the default (never merge)
  }

  void relay(const toml::table& t, const std::string& path) {
    auto& r = cfg_.relay;
    fields(t, path,
           {
               {"networks", [&](auto& n, auto& p) { r.networks = cidrs(n, p); }},
               {"domains", [&](auto& n, auto& p) { r.domains = domains(n, p); }},
               {"local_domains", [&](auto& n, auto& p) { r.local_domains = domains(n, p); }},
           });
  }

  void aliases(const toml::table& t, const std::string& path) {
    for (auto&& [k, v] : t) {
      const std::string name(k.str());
      const std::string p = path + "." + name;
      const auto bad_name = [](char ch) {
        return ch == '@' || std::isspace(static_cast<unsigned char>(ch)) ||
               std::iscntrl(static_cast<unsigned char>(ch));
      };
      if (name.empty() || std::any_of(name.begin(), name.end(), bad_name))
        fail(k.source().begin.line ? k.source() : v.source(), p,
             "alias names are local parts (no '@' or spaces)");
      note(p, v);
      const std::string target = str(v, p);
      const bool local = !target.empty() && std::none_of(target.begin(), target.end(), bad_name);
      if (!local && !detail::is_mail_address(target))
        fail(v, p, quoted(target) + " is not a mail address (local@domain) or local name");
      cfg_.aliases[name] = target;
    }
  }

  void local(const toml::table& t, const std::string& path) {
    auto& l = cfg_.local;
    fields(t, path,
           {
               {"admin",
                [&](auto& n, auto& p) {
                  // Empty turns the rewrite off (refuse instead), as in the default.
                  l.admin = str(n, p).empty() ? std::string() : mail_address(n, p);
                }},
               {"masquerade",
                [&](auto& n, auto& p) { l.masquerade = str(n, p).empty() ? std::string() : domain(n, p); }},
           });
  }

  void smtp(const toml::table& t, const std::string& path) {
    auto& s = cfg_.smtp;
    fields(t, path,
           {
               {"bare_newline",
                [&](auto& n, auto& p) {
                  s.bare_newline = choice(n, p, {BareNewline::Normalize, BareNewline::Reject});
                }},
               {"max_message_size",
                [&](auto& n, auto& p) { s.max_message_size = size_at_least(n, p, 1024, "1KiB"); }},
               {"max_recipients", [&](auto& n, auto& p) { s.max_recipients = count(n, p); }},
               {"max_errors", [&](auto& n, auto& p) { s.max_errors = count(n, p); }},
               {"max_connections", [&](auto& n, auto& p) { s.max_connections = count(n, p); }},
               {"max_connections_per_ip", [&](auto& n, auto& p) { s.max_connections_per_ip = count(n, p); }},
               {"command_timeout", [&](auto& n, auto& p) { s.command_timeout = positive_duration(n, p); }},
               {"data_timeout", [&](auto& n, auto& p) { s.data_timeout = positive_duration(n, p); }},
               {"max_received_headers", [&](auto& n, auto& p) { s.max_received_headers = count(n, p); }},
               {"transaction_timeout",
                [&](auto& n, auto& p) { s.transaction_timeout = positive_duration(n, p); }},
               {"junk_command_limit",  // 0 = no limit
                [&](auto& n, auto& p) {
                  s.junk_command_limit = static_cast<std::uint32_t>(integer(n, p, 0, 1000000));
                }},
               {"stress_command_timeout",
                [&](auto& n, auto& p) { s.stress_command_timeout = positive_duration(n, p); }},
               {"max_pending_bytes",
                [&](auto& n, auto& p) { s.max_pending_bytes = size_at_least(n, p, 1ull << 20, "1MiB"); }},
               {"limit_relay_networks", [&](auto& n, auto& p) { s.limit_relay_networks = boolean(n, p); }},
           });
  }

  void tls(const toml::table& t, const std::string& path) {
    fields(t, path,
           {
               {"certificate", [&](auto& n, auto& p) { cfg_.tls.certificate = str(n, p); }},
               {"key", [&](auto& n, auto& p) { cfg_.tls.key = str(n, p); }},
           });
  }

  void auth(const toml::table& t, const std::string& path) {
    fields(
        t, path,
        {
            {"password_file", [&](auto& n, auto& p) { cfg_.auth.password_file = str(n, p); }},
            {"allow_plaintext_loopback",
             [&](auto& n, auto& p) { cfg_.auth.allow_plaintext_loopback = boolean(n, p); }},
            {"on_relay_listeners", [&](auto& n, auto& p) { cfg_.auth.on_relay_listeners = boolean(n, p); }},
        });
  }

  void delivery(const toml::table& t, const std::string& path) {
    auto& d = cfg_.delivery;
    fields(
        t, path,
        {
            {"port", [&](auto& n, auto& p) { d.port = port(n, p); }},
            {"max_connections", [&](auto& n, auto& p) { d.max_connections = count(n, p); }},
            {"max_per_destination", [&](auto& n, auto& p) { d.max_per_destination = count(n, p); }},
            {"initial_per_destination", [&](auto& n, auto& p) { d.initial_per_destination = count(n, p); }},
            {"max_addresses", [&](auto& n, auto& p) { d.max_addresses = count(n, p); }},
            {"connect_timeout", [&](auto& n, auto& p) { d.connect_timeout = positive_duration(n, p); }},
            {"greeting_timeout", [&](auto& n, auto& p) { d.greeting_timeout = positive_duration(n, p); }},
            {"mail_timeout", [&](auto& n, auto& p) { d.mail_timeout = positive_duration(n, p); }},
            {"rcpt_timeout", [&](auto& n, auto& p) { d.rcpt_timeout = positive_duration(n, p); }},
            {"data_init_timeout", [&](auto& n, auto& p) { d.data_init_timeout = positive_duration(n, p); }},
            {"data_block_timeout", [&](auto& n, auto& p) { d.data_block_timeout = positive_duration(n, p); }},
            {"data_done_timeout", [&](auto& n, auto& p) { d.data_done_timeout = positive_duration(n, p); }},
            {"idle_timeout", [&](auto& n, auto& p) { d.idle_timeout = positive_duration(n, p); }},
            {"tls_fallback_memory", [&](auto& n, auto& p) { d.tls_fallback_memory = duration(n, p); }},
        });
  }

  void dns(const toml::table& t, const std::string& path) {
    fields(t, path,
           {
               {"servers",
                [&](auto& n, auto& p) {
                  cfg_.dns.servers =
                      list<SocketAddress>(n, p, [&](const toml::node& e, const std::string& ep) {
                        return socket_address(e, ep, std::uint16_t{53});
                      });
                }},
               {"trust_ad", [&](auto& n, auto& p) { cfg_.dns.trust_ad = boolean(n, p); }},
           });
  }

  void retry(const toml::table& t, const std::string& path) {
    auto& r = cfg_.retry;
    fields(t, path,
           {
               {"first", [&](auto& n, auto& p) { r.first = positive_duration(n, p); }},
               {"max_interval", [&](auto& n, auto& p) { r.max_interval = positive_duration(n, p); }},
               {"multiplier",
                [&](auto& n, auto& p) {
                  r.multiplier = number(n, p);
                  if (r.multiplier < 1.0)
                    fail(n, p, "must be at least 1.0, got " + detail::format_double(r.multiplier));
                }},
               {"jitter",
                [&](auto& n, auto& p) {
                  r.jitter = number(n, p);
                  if (r.jitter < 0.0 || r.jitter > 1.0)
                    fail(n, p, "must be between 0.0 and 1.0, got " + detail::format_double(r.jitter));
                }},
               {"max_age", [&](auto& n, auto& p) { r.max_age = positive_duration(n, p); }},
               {"after_crash", [&](auto& n, auto& p) { r.after_crash = duration(n, p); }},
               {"after_greylist", [&](auto& n, auto& p) { r.after_greylist = positive_duration(n, p); }},
           });
  }

  void routes(const toml::node& n, const std::string& p) {
    std::vector<Route> out;
    const toml::array& a = tables(n, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      Route r;
      bool has_domain = false;
      std::optional<std::uint16_t> host_port;
      const toml::node* port_node = nullptr;
      const toml::node* domain_node = nullptr;
      const toml::node* host_node = nullptr;
      fields(t, ep,
             {
                 {"domain",
                  [&](auto& n2, auto& p2) {
                    const std::string s = str(n2, p2);
                    r.domain = s == "*" ? s : domain(n2, p2);
                    has_domain = true;
                    domain_node = &n2;
                  }},
                 {"host",
                  [&](auto& n2, auto& p2) {
                    host_port = route_host(n2, p2, r);
                    host_node = &n2;
                  }},
                 {"port",
                  [&](auto& n2, auto& p2) {
                    r.port = port(n2, p2);
                    port_node = &n2;
                  }},
                 {"tls",
                  [&](auto& n2, auto& p2) {
                    r.tls = choice(n2, p2, {RouteTls::Opportunistic, RouteTls::Required, RouteTls::Verify});
                  }},
                 {"implicit_tls", [&](auto& n2, auto& p2) { r.implicit_tls = boolean(n2, p2); }},
                 {"auth_user", [&](auto& n2, auto& p2) { r.auth_user = str(n2, p2); }},
                 {"auth_password_file", [&](auto& n2, auto& p2) { r.auth_password_file = str(n2, p2); }},
                 {"source_address",
                  [&](auto& n2, auto& p2) {
                    r.source_address = str(n2, p2).empty() ? std::string() : ip(n2, p2);
                  }},
                 {"tls_name",
                  [&](auto& n2, auto& p2) {
                    const std::string s = str(n2, p2);
                    if (!s.empty() && !detail::is_domain(s)) fail(n2, p2, quoted(s) + " is not a host name");
                    r.tls_name = to_lower(s);
                  }},
                 {"tls_ca_file", [&](auto& n2, auto& p2) { r.tls_ca_file = str(n2, p2); }},
             });
      // An IP literal has no name to check: "verify" would accept any certificate a trusted CA
      // issued to anyone (and hand the AUTH password to its holder).
      if (r.tls == RouteTls::Verify && r.host_is_literal && r.tls_name.empty())
        fail(*host_node, ep + ".tls_name",
             "tls = \"verify\" with an IP-literal host needs tls_name (the name the certificate must carry)");
      if (!has_domain) fail(t, ep + ".domain", "required key is missing (a domain or \"*\")");
      if (host_port) {
        if (port_node && r.port != host_port)
          fail(*port_node, ep + ".port", "conflicts with the port given in host");
        r.port = host_port;
      }
      if (r.auth_user.empty() != r.auth_password_file.empty())
        fail(t, ep + (r.auth_user.empty() ? ".auth_user" : ".auth_password_file"),
             "auth_user and auth_password_file must be set together");
      for (std::size_t j = 0; j < out.size(); ++j)
        if (out[j].domain == r.domain)
          fail(*domain_node, ep + ".domain",
               "duplicate route for " + quoted(r.domain) + " (see " + p + "[" + std::to_string(j) + "])");
      out.push_back(std::move(r));
    }
    cfg_.routes = std::move(out);  // arrays replace the default (never merge)
  }

  // [[pace]]: one rule per entry, by domain or by MX host pattern (exactly one of them).
  void pace_rules(const toml::node& n, const std::string& p) {
    std::vector<PaceRule> out;
    const toml::array& a = tables(n, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      PaceRule r;
      const toml::node* key_node = nullptr;
      fields(
          t, ep,
          {
              {"domain",
               [&](auto& n2, auto& p2) {
                 r.domain = pace_pattern(n2, p2, true);
                 key_node = &n2;
               }},
              {"mx",
               [&](auto& n2, auto& p2) {
                 r.mx = pace_pattern(n2, p2, false);
                 key_node = &n2;
               }},
              {"rate",
               [&](auto& n2, auto& p2) {
                 r.rate = str(n2, p2);
                 const auto v = text::parse_rate(r.rate);
                 if (!v)
                   fail(n2, p2,
                        "invalid rate " + quoted(r.rate) +
                            " (expected count/unit with unit s, min, h or d, e.g. \"600/min\")");
                 r.rate_per_second = *v;
               }},
              {"burst", [&](auto& n2, auto& p2) { r.burst = count(n2, p2); }},
              {"connections", [&](auto& n2, auto& p2) { r.connections = count(n2, p2); }},
              {"messages_per_connection",
               [&](auto& n2, auto& p2) { r.messages_per_connection = count(n2, p2); }},
              {"backoff_period", [&](auto& n2, auto& p2) { r.backoff_period = positive_duration(n2, p2); }},
          });
      if (r.domain.empty() == r.mx.empty())
        fail(key_node ? *key_node : static_cast<const toml::node&>(t), ep + (key_node ? ".mx" : ".domain"),
             "set exactly one of domain and mx");
      for (std::size_t j = 0; j < out.size(); ++j)
        if (out[j].domain == r.domain && out[j].mx == r.mx)
          fail(*key_node, ep + (r.mx.empty() ? ".domain" : ".mx"),
               "duplicate pace rule for " + quoted(r.mx.empty() ? r.domain : r.mx) + " (see " + p + "[" +
                   std::to_string(j) + "])");
      out.push_back(std::move(r));
    }
    cfg_.pace = std::move(out);  // arrays replace the default (never merge)
  }

  // "example.com", "*.example.com", or (domain only) "*"; lower-cased.
  std::string pace_pattern(const toml::node& n, const std::string& p, bool allow_star) const {
    const std::string s = str(n, p);
    if (s == "*" && allow_star) return s;
    const std::string name = s.size() > 2 && s.compare(0, 2, "*.") == 0 ? s.substr(2) : s;
    if (!detail::is_domain(name))
      fail(n, p,
           quoted(s) + " is not a host name or pattern (\"example.com\", \"*.example.com\"" +
               (allow_star ? ", or \"*\")" : ")"));
    return to_lower(s);
  }

  // "[10.0.0.5]:2525" / "[2001:db8::1]" (literal) or "relay.example.com[:port]" (MX lookup).
  std::optional<std::uint16_t> route_host(const toml::node& n, const std::string& p, Route& r) const {
    const std::string s = str(n, p);
    if (s.empty()) {
      r.host.clear();
      r.host_is_literal = false;
      return std::nullopt;
    }
    if (s.front() == '[') {
      auto parsed = detail::parse_socket_address(s, std::uint16_t{0});
      if (!parsed) fail(n, p, parsed.error());
      const auto& sa = *parsed;
      r.host = sa.ip;
      r.host_is_literal = true;
      return sa.port ? std::optional<std::uint16_t>(sa.port) : std::nullopt;
    }
    std::string name = s;
    std::optional<std::uint16_t> port;
    if (const auto colon = s.find(':'); colon != std::string::npos) {
      name = s.substr(0, colon);
      const std::string ptext = s.substr(colon + 1);
      unsigned long v = 0;
      auto [end, ec] = std::from_chars(ptext.data(), ptext.data() + ptext.size(), v);
      if (ptext.empty() || ec != std::errc() || end != ptext.data() + ptext.size() || v == 0 || v > 65535)
        fail(n, p, "invalid port " + quoted(ptext) + " (1..65535)");
      port = static_cast<std::uint16_t>(v);
    }
    if (!detail::is_domain(name))
      fail(n, p,
           quoted(s) +
               " is not a host name or [IP] literal (e.g. \"relay.example.com:587\" or \"[192.0.2.1]:25\")");
    r.host = to_lower(name);
    r.host_is_literal = false;
    return port;
  }

  void bounce(const toml::table& t, const std::string& path) {
    auto& b = cfg_.bounce;
    fields(t, path,
           {
               {"delay_warning", [&](auto& n, auto& p) { b.delay_warning = duration(n, p); }},
               {"postmaster",
                [&](auto& n, auto& p) {
                  b.postmaster = str(n, p).empty() ? std::string() : mail_address(n, p);
                }},
               {"max_return_size", [&](auto& n, auto& p) { b.max_return_size = size(n, p); }},
           });
  }

  void tls_report(const toml::table& t, const std::string& path) {
    auto& r = cfg_.tls_report;
    fields(t, path,
           {
               {"enabled", [&](auto& n, auto& p) { r.enabled = boolean(n, p); }},
               {"organization", [&](auto& n, auto& p) { r.organization = one_line(n, p); }},
               {"contact", [&](auto& n, auto& p) { r.contact = one_line(n, p); }},
               {"from",
                [&](auto& n, auto& p) { r.from = str(n, p).empty() ? std::string() : mail_address(n, p); }},
           });
  }

  // Text that goes into a report header or JSON field: printable, one line.
  std::string one_line(const toml::node& n, const std::string& p) const {
    std::string s = str(n, p);
    for (unsigned char ch : s)
      if (ch < 0x20 || ch == 0x7f) fail(n, p, "must be one line of printable text");
    if (s.size() > 200) fail(n, p, "must be at most 200 characters");
    return s;
  }

  void mta_sts(const toml::table& t, const std::string& path) {
    auto& s = cfg_.mta_sts;
    fields(t, path,
           {
               {"enabled", [&](auto& n, auto& p) { s.enabled = boolean(n, p); }},
               {"ca_file", [&](auto& n, auto& p) { s.ca_file = str(n, p); }},
               {"https_port", [&](auto& n, auto& p) { s.https_port = port(n, p); }},
           });
  }

  void suppression(const toml::table& t, const std::string& path) {
    auto& s = cfg_.suppression;
    fields(t, path,
           {
               {"enabled", [&](auto& n, auto& p) { s.enabled = boolean(n, p); }},
               {"ttl", [&](auto& n, auto& p) { s.ttl = positive_duration(n, p); }},
           });
  }

  // [cluster]: its presence turns the Redis link on; each key has the default of ClusterSection.
  void cluster(const toml::table& t, const std::string& path) {
    if (!cfg_.cluster) cfg_.cluster.emplace();
    auto& c = *cfg_.cluster;
    fields(
        t, path,
        {
            {"redis",
             [&](auto& n, auto& p) {
               c.redis = nonempty(n, p);
               auto parsed = parse_redis_url(c.redis);
               if (!parsed) fail(n, p, parsed.error());
               c.endpoint = *parsed;
             }},
            {"password_file", [&](auto& n, auto& p) { c.password_file = str(n, p); }},
            {"node_name", [&](auto& n, auto& p) { c.node_name = node_name(n, p); }},
            {"timeout", [&](auto& n, auto& p) { c.timeout = bounded_duration(n, p, 10'000, "10s"); }},
            {"expected_nodes",
             [&](auto& n, auto& p) {
               c.expected_nodes = static_cast<std::uint32_t>(integer(n, p, 1, 1000));
             }},
            {"heartbeat", [&](auto& n, auto& p) { c.heartbeat = bounded_duration(n, p, 3'600'000, "1h"); }},
            {"lease", [&](auto& n, auto& p) { c.lease = lease(n, p); }},
        });
  }

  // [cluster] lease: renewed every third of it, so it must outlast a busy second or two.
  Duration lease(const toml::node& n, const std::string& p) const {
    const Duration d = bounded_duration(n, p, 3'600'000, "1h");
    if (d < std::chrono::seconds(1)) fail(n, p, "must be at least 1s");
    return d;
  }

  // A positive duration of at most `max_ms`.
  Duration bounded_duration(const toml::node& n, const std::string& p, std::int64_t max_ms,
                            const char* max_text) const {
    const Duration d = positive_duration(n, p);
    if (std::chrono::duration_cast<std::chrono::milliseconds>(d).count() > max_ms)
      fail(n, p, std::string("must be at most ") + max_text);
    return d;
  }

  // The node's name in Redis keys (ferry:node:<name>): short, and no byte that could confuse a
  // key pattern or a log line.
  std::string node_name(const toml::node& n, const std::string& p) const {
    std::string s = str(n, p);
    if (s.size() > 64) fail(n, p, "must be at most 64 characters");
    for (unsigned char ch : s)
      if (!std::isalnum(ch) && ch != '.' && ch != '-' && ch != '_')
        fail(n, p, "may hold only letters, digits, '.', '-' and '_'");
    return s;
  }

  void log(const toml::table& t, const std::string& path) {
    fields(t, path,
           {
               {"format",
                [&](auto& n, auto& p) {
                  cfg_.log.format = choice(n, p, {LogFormat::Text, LogFormat::Json});
                }},
           });
  }

  void metrics(const toml::table& t, const std::string& path) {
    fields(t, path,
           {
               {"listen",
                [&](auto& n, auto& p) {
                  if (str(n, p).empty())
                    cfg_.metrics.listen.reset();
                  else
                    cfg_.metrics.listen = socket_address(n, p, std::nullopt, true);  // :0 = any free port
                }},
           });
  }

  void dkim(const toml::node& n, const std::string& p) {
    std::vector<DkimEntry> out;
    const toml::array& a = tables(n, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      DkimEntry d;
      bool has_domain = false, has_key = false;
      const toml::node* selector_node = nullptr;
      fields(t, ep,
             {
                 {"domain",
                  [&](auto& n2, auto& p2) {
                    d.domain = domain(n2, p2);
                    has_domain = true;
                  }},
                 {"selector",
                  [&](auto& n2, auto& p2) {
                    const std::string s = str(n2, p2);
                    // RFC 6376 §3.1: selector = sub-domain *( "." sub-domain )
                    if (!detail::is_domain(s))
                      fail(n2, p2,
                           quoted(s) + " is not a valid selector (letters, digits, hyphens and dots)");
                    d.selector = to_lower(s);
                    selector_node = &n2;
                  }},
                 {"key",
                  [&](auto& n2, auto& p2) {
                    d.key = nonempty(n2, p2);
                    has_key = true;
                  }},
                 {"canonicalization", [&](auto& n2, auto& p2) { dkim_canonicalization(n2, p2, d); }},
                 {"headers", [&](auto& n2, auto& p2) { d.headers = dkim_headers(n2, p2); }},
                 {"sign_subdomains", [&](auto& n2, auto& p2) { d.sign_subdomains = boolean(n2, p2); }},
                 {"expire",
                  [&](auto& n2, auto& p2) {
                    d.expire = duration(n2, p2);
                    if (d.expire.count() != 0 && d.expire < std::chrono::seconds(1))
                      fail(n2, p2, "must be 0 (no x= tag) or at least 1s");
                  }},
             });
      if (!has_domain) fail(t, ep + ".domain", "required key is missing");
      if (!selector_node) fail(t, ep + ".selector", "required key is missing");
      if (!has_key) fail(t, ep + ".key", "required key is missing (a PEM private key file)");
      for (std::size_t j = 0; j < out.size(); ++j)
        if (out[j].domain == d.domain && out[j].selector == d.selector)
          fail(*selector_node, ep + ".selector",
               "duplicate selector " + quoted(d.selector) + " for " + quoted(d.domain) + " (see " + p + "[" +
                   std::to_string(j) + "])");
      out.push_back(std::move(d));
    }
    cfg_.dkim = std::move(out);  // arrays replace the default (never merge)
  }

  void event_sinks(const toml::node& n, const std::string& p) {
    std::vector<EventSink> out;
    const toml::array& a = tables(n, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      EventSink s;
      fields(t, ep,
             {
                 {"webhook", [&](auto& n2, auto& p2) { s.webhook = webhook_url(n2, p2); }},
                 {"file", [&](auto& n2, auto& p2) { s.file = nonempty(n2, p2); }},
                 {"secret_file", [&](auto& n2, auto& p2) { s.secret_file = nonempty(n2, p2); }},
                 {"ca_file", [&](auto& n2, auto& p2) { s.ca_file = str(n2, p2); }},
                 {"batch", [&](auto& n2,
                               auto& p2) { s.batch = static_cast<std::uint32_t>(integer(n2, p2, 1, 1000)); }},
                 {"timeout", [&](auto& n2, auto& p2) { s.timeout = positive_duration(n2, p2); }},
                 {"retry_first", [&](auto& n2, auto& p2) { s.retry_first = positive_duration(n2, p2); }},
                 {"retry_max", [&](auto& n2, auto& p2) { s.retry_max = positive_duration(n2, p2); }},
             });
      if (s.webhook.empty() == s.file.empty())
        fail(t, ep + ".webhook", "exactly one of webhook and file is required");
      if (!s.webhook.empty() && s.secret_file.empty())
        fail(t, ep + ".secret_file", "required with webhook (the HMAC key signing each POST)");
      if (!s.file.empty() && (!s.secret_file.empty() || !s.ca_file.empty()))
        fail(t, ep + (s.secret_file.empty() ? ".ca_file" : ".secret_file"), "only for a webhook");
      if (s.retry_max < s.retry_first) fail(t, ep + ".retry_max", "must not be less than retry_first");
      for (std::size_t j = 0; j < out.size(); ++j)
        if (out[j].name() == s.name())
          fail(t, ep, "the same sink twice (see " + p + "[" + std::to_string(j) + "])");
      out.push_back(std::move(s));
    }
    cfg_.events = std::move(out);  // arrays replace the default (never merge)
  }

  // "https://host[:port][/path]": events carry addresses and replies, never sent in the clear.
  std::string webhook_url(const toml::node& n, const std::string& p) const {
    const std::string s = nonempty(n, p);
    const std::string_view rest = std::string_view(s).substr(s.starts_with("https://") ? 8 : 0);
    const std::string_view host = rest.substr(0, rest.find_first_of(":/"));
    if (!s.starts_with("https://") || host.empty() || !detail::is_domain(std::string(host)))
      fail(n, p, quoted(s) + " is not an https:// URL with a host name");
    for (char c : s)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
        fail(n, p, "a URL has no spaces or control characters");
    return s;
  }

  void http(const toml::node& n, const std::string& p) {
    std::vector<HttpListener> out;
    const toml::array& a = tables(n, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ep = p + "[" + std::to_string(i) + "]";
      const toml::table& t = table(*a.get(i), ep);
      HttpListener h;
      const toml::node* listen_node = nullptr;
      fields(t, ep,
             {
                 {"listen",
                  [&](auto& n2, auto& p2) {
                    h.listen = socket_address(n2, p2, std::nullopt, true);  // :0 = any free port
                    listen_node = &n2;
                  }},
                 {"token_file", [&](auto& n2, auto& p2) { h.token_file = nonempty(n2, p2); }},
             });
      if (!listen_node) fail(t, ep + ".listen", "required key is missing (e.g. \"127.0.0.1:8025\")");
      // Without tokens anyone who reaches the port could send mail as any sender.
      if (h.token_file.empty())
        fail(t, ep + ".token_file", "required key is missing (a file of bearer tokens)");
      for (std::size_t j = 0; j < out.size(); ++j)
        if (h.listen.port != 0 && out[j].listen == h.listen)
          fail(*listen_node, ep + ".listen",
               "duplicate address " + quoted(h.listen.str()) + " (see " + p + "[" + std::to_string(j) + "])");
      out.push_back(std::move(h));
    }
    cfg_.http = std::move(out);  // arrays replace the default (never merge)
  }

  // "header/body" (RFC 6376 §3.5 c= tag), each "simple" or "relaxed".
  void dkim_canonicalization(const toml::node& n, const std::string& p, DkimEntry& d) const {
    const std::string s = str(n, p);
    const auto one = [](std::string_view w) -> std::optional<DkimCanonicalization> {
      if (w == "simple") return DkimCanonicalization::Simple;
      if (w == "relaxed") return DkimCanonicalization::Relaxed;
      return std::nullopt;
    };
    const auto slash = s.find('/');
    const auto h = one(std::string_view(s).substr(0, slash));
    const auto b = slash == std::string::npos ? std::nullopt : one(std::string_view(s).substr(slash + 1));
    if (!h || !b)
      fail(n, p,
           "invalid value " + quoted(s) +
               " (expected \"header/body\", each simple or relaxed, e.g. \"relaxed/relaxed\")");
    d.header_canonicalization = *h;
    d.body_canonicalization = *b;
  }

  std::vector<std::string> dkim_headers(const toml::node& n, const std::string& p) const {
    std::vector<std::string> out = list<std::string>(n, p, [&](const toml::node& e, const std::string& ep) {
      const std::string s = str(e, ep);
      // RFC 5322 §2.2: a field name is printable US-ASCII except colon.
      const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 33 && static_cast<unsigned char>(c) <= 126 && c != ':';
      });
      if (!ok) fail(e, ep, quoted(s) + " is not a header field name");
      const std::string name = to_lower(s);
      return name;
    });
    const toml::array& a = array(n, p);
    for (std::size_t i = 0; i < out.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (out[i] == out[j])
          fail(*a.get(i), p + "[" + std::to_string(i) + "]", "duplicate header field " + quoted(out[i]));
    if (std::find(out.begin(), out.end(), "from") == out.end())
      fail(n, p, "must include \"From\" (RFC 6376 §5.4: the From: field is always signed)");
    return out;
  }

  Config& cfg_;
  std::string file_;
  std::map<std::string, Where> where_;
  std::uint64_t seq_ = 0;
};

Result<Config, ConfigError> load_layers(std::optional<std::pair<std::string_view, std::string_view>> file) {
  Config cfg;
  Loader loader(cfg);
  try {
    loader.apply(default_config_text(), kEmbeddedName);
    if (file) loader.apply(file->first, file->second);
    loader.check_relations();
  } catch (Failure& f) {
    return std::move(f.error);
  }
  return cfg;
}

}  // namespace

Result<Config, ConfigError> load_config_text(std::string_view text, std::string_view file_name) {
  return load_layers(std::pair{text, file_name});
}

Result<Config, ConfigError> load_config(const std::optional<std::string>& path) {
  if (!path) return load_layers(std::nullopt);
  std::FILE* f = std::fopen(path->c_str(), "rb");
  if (!f) return ConfigError{*path, 0, 0, {}, std::string("cannot open: ") + std::strerror(errno)};
  std::string text;
  char buf[65536];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  const int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return ConfigError{*path, 0, 0, {}, std::string("cannot read: ") + std::strerror(err)};
  return load_config_text(text, *path);
}

}  // namespace ferry::config
