// ProbeCommand: `ferry probe ADDRESS` — options, configuration and output of the probe engine
// (mta/probe/Probe). Exit codes: 0 accepted, 1 rejected permanently, 2 temporary failure,
// 3 could not resolve or connect (64 usage, 78 configuration).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "ferry/JsonWriter.hpp"
#include "ferry/text/LineEnds.hpp"
#include "ferry/text/SafeText.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/probe/Probe.hpp"

namespace ferry::cli {
namespace {

void probe_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry probe [options] ADDRESS\n"
      "       ferry probe --config FILE [--send-test]\n"
      "  Resolves ADDRESS's domain, connects to its MX hosts in delivery order and speaks SMTP up\n"
      "  to RCPT TO (then QUIT), explaining every step and reply. Nothing is sent unless --send.\n"
      "  --config FILE        resolve and connect as the daemon would (DNS servers, delivery port,\n"
      "                       routes, TLS policy, EHLO name); without ADDRESS, probe [local] admin\n"
      "                       through its route (the smarthost check)\n"
      "  --host HOST          connect to HOST (name or IP) instead of the MX\n"
      "  --port N             connect to port N\n"
      "  --tls=MODE           none | opportunistic | verify | implicit\n"
      "  --auth USER:PASS     authenticate (AUTH PLAIN) before MAIL FROM\n"
      "  --ehlo NAME          EHLO name (default: the configured host name)\n"
      "  --from ADDR          MAIL FROM address (default: the null sender <>)\n"
      "  --send FILE          send FILE (\"-\": standard input) as the message through DATA\n"
      "  --send-test          send a generated test message through DATA (from postmaster@ the\n"
      "                       [local] masquerade domain with --config, unless --from)\n"
      "  --timeout SECONDS    per-command timeout (default 60)\n"
      "  --json               print the result as JSON\n"
      "exit status: 0 accepted, 1 rejected permanently, 2 temporary failure, 3 could not resolve or "
      "connect\n",
      out);
}

std::string system_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string test_message(const std::string& from, const std::string& to, const std::string& ehlo) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const std::string sender = from.empty() ? "postmaster@" + ehlo : from;
  return "From: <" + sender + ">\r\nTo: <" + to + ">\r\nSubject: ferry probe test message\r\nDate: " + date +
         "\r\nMessage-ID: <probe." + std::to_string(now) + "." + std::to_string(getpid()) + "@" + ehlo +
         ">\r\n\r\nThis is a test message sent by `ferry probe` to check delivery.\r\n";
}

std::int64_t ms(double v) { return static_cast<std::int64_t>(std::llround(v)); }

void opt_string(JsonWriter& j, std::string_view key, const std::string& v) {
  j.key(key);
  if (v.empty())
    j.null();
  else
    j.value(v);
}

void reply_json(JsonWriter& j, const probe::ProbeReply& r) {
  j.begin_object();
  j.key("command").value(r.command);
  j.key("code").value(r.code);
  opt_string(j, "status", r.status);
  j.key("text").value(r.text);
  j.key("code_meaning").value(r.code_meaning);
  opt_string(j, "status_meaning", r.status_meaning);
  opt_string(j, "category", r.category);
  opt_string(j, "advice", r.advice);
  opt_string(j, "detail", r.detail);
  j.key("elapsed_ms").value(ms(r.elapsed_ms));
  j.end_object();
}

void dns_json(JsonWriter& j, const probe::ProbeDnsStep& d) {
  j.begin_object();
  j.key("name").value(d.name);
  j.key("type").value(d.type);
  j.key("status").value(d.status);
  opt_string(j, "error", d.error);
  j.key("elapsed_ms").value(ms(d.elapsed_ms));
  j.key("dnssec").value(d.authenticated);
  j.key("records").begin_array();
  for (const auto& rec : d.records) {
    j.begin_object();
    j.key("value").value(rec.value);
    j.key("ttl");
    if (rec.ttl)
      j.value(static_cast<std::uint64_t>(*rec.ttl));
    else
      j.null();
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void tls_json(JsonWriter& j, const probe::ProbeTlsInfo& t) {
  j.begin_object();
  j.key("established").value(t.established);
  opt_string(j, "error", t.error);
  j.key("version").value(t.version);
  j.key("cipher").value(t.cipher);
  j.key("subject").value(t.subject);
  j.key("subject_alt_names").begin_array();
  for (const auto& s : t.subject_alt_names) j.value(s);
  j.end_array();
  j.key("issuer").value(t.issuer);
  j.key("not_before").value(t.not_before);
  j.key("not_after").value(t.not_after);
  j.key("verify_name").value(t.verify_name);
  j.key("verified").value(t.verified);
  opt_string(j, "verify_error", t.verify_error);
  if (t.dane) j.key("dane").value(t.dane_match.empty() ? std::string("no match") : t.dane_match);
  j.key("elapsed_ms").value(ms(t.elapsed_ms));
  j.end_object();
}

void connection_json(JsonWriter& j, const probe::ProbeConnection& c) {
  j.begin_object();
  j.key("host").value(c.host);
  j.key("ip").value(c.ip);
  j.key("port").value(static_cast<unsigned>(c.port));
  j.key("connected").value(c.connected);
  opt_string(j, "error", c.error);
  j.key("connect_ms").value(ms(c.connect_ms));
  j.key("transcript").begin_array();
  for (const auto& t : c.transcript) {
    j.begin_object();
    j.key("dir").value(std::string(1, t.direction));
    j.key("text").value(t.text);
    j.key("at_ms").value(ms(t.at_ms));
    j.end_object();
  }
  j.end_array();
  j.key("capabilities").begin_array();
  for (const auto& cap : c.capabilities) {
    j.begin_object();
    j.key("keyword").value(cap.keyword);
    j.key("parameters").value(cap.parameters);
    j.key("explanation").value(cap.explanation);
    j.end_object();
  }
  j.end_array();
  j.key("tls");
  if (c.tls)
    tls_json(j, *c.tls);
  else
    j.null();
  j.key("replies").begin_array();
  for (const auto& rep : c.replies) reply_json(j, rep);
  j.end_array();
  j.end_object();
}

std::string result_json(const probe::ProbeResult& r, int exit_code) {
  JsonWriter j;
  j.begin_object();
  j.key("recipient").value(r.recipient);
  j.key("domain").value(r.domain);
  j.key("sender").value(r.sender);
  j.key("route").value(r.route);
  opt_string(j, "mx_kind", r.mx_kind);
  j.key("dns").begin_array();
  for (const auto& d : r.dns) dns_json(j, d);
  j.end_array();
  j.key("connections").begin_array();
  for (const auto& c : r.connections) connection_json(j, c);
  j.end_array();
  j.key("result").value(probe::to_string(r.verdict));
  j.key("exit_code").value(exit_code);
  j.key("summary").value(r.summary);
  opt_string(j, "category", r.category);
  opt_string(j, "advice", r.advice);
  opt_string(j, "detail", r.detail);
  j.key("final_reply");
  if (r.final_reply)
    reply_json(j, *r.final_reply);
  else
    j.null();
  j.key("sent_data").value(r.sent_data);
  j.key("total_ms").value(ms(r.total_ms));
  j.end_object();
  return j.str() + "\n";
}

// The command line: the options as given, before the configuration is read.
struct ProbeArgs {
  CommonOptions common;
  std::optional<std::string> host, tls, auth, ehlo, from, send;
  std::optional<std::uint16_t> port;
  bool json = false, send_test = false;
  int timeout_s = 0;
  std::vector<std::string> positional;
};

// The value of `--name=VALUE` or `--name VALUE`; nullopt (after saying so) when it is missing.
std::optional<std::string> option_value(const Args& args, std::size_t& i, const std::string& a) {
  const std::string name = a.substr(0, a.find('='));
  if (a.starts_with(name + "=")) return a.substr(name.size() + 1);
  if (i + 1 >= args.size()) {
    std::fprintf(stderr, "ferry: probe: %s needs a value\n", name.c_str());
    return std::nullopt;
  }
  return args[++i];
}

// --port and --timeout: 1 to 65535.
std::optional<long> option_number(const std::string& v) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n <= 0 || n > 65535) {
    std::fprintf(stderr, "ferry: probe: bad number '%s'\n", v.c_str());
    return std::nullopt;
  }
  return n;
}

// The options that take a string, each stored as given.
std::optional<std::string>* string_option(ProbeArgs& p, const std::string& a) {
  const std::pair<const char*, std::optional<std::string>*> table[] = {
      {"--host", &p.host}, {"--tls", &p.tls},   {"--auth", &p.auth},
      {"--ehlo", &p.ehlo}, {"--from", &p.from}, {"--send", &p.send},
  };
  for (const auto& [name, target] : table)
    if (a == name || a.starts_with(std::string(name) + "=")) return target;
  return nullptr;
}

// Fills `p`; an exit code when the command ends here (help, a usage error).
std::optional<int> parse_probe_args(const Args& raw, ProbeArgs& p) {
  Args args;
  if (int rc = parse_common_options(raw, p.common, args); rc != kExitOk) return rc;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto is = [&](const char* name) { return a == name || a.starts_with(std::string(name) + "="); };
    if (std::optional<std::string>* target = string_option(p, a)) {
      auto v = option_value(args, i, a);
      if (!v) return kExitUsage;
      *target = *v;
    } else if (is("--port") || is("--timeout")) {
      auto v = option_value(args, i, a);
      if (!v) return kExitUsage;
      const std::optional<long> n = option_number(*v);
      if (!n) return kExitUsage;
      if (a.starts_with("--port"))
        p.port = static_cast<std::uint16_t>(*n);
      else
        p.timeout_s = static_cast<int>(*n);
    } else if (a == "--json") {
      p.json = true;
    } else if (a == "--send-test") {
      p.send_test = true;
    } else if (a == "-h" || a == "--help") {
      probe_usage(stdout);
      return kExitOk;
    } else if (a.starts_with("-") && a != "-") {
      std::fprintf(stderr, "ferry: probe: unknown option '%s'\n", a.c_str());
      probe_usage(stderr);
      return kExitUsage;
    } else {
      p.positional.push_back(a);
    }
  }
  // With a configuration the address may be left out: [local] admin is probed.
  if (p.positional.empty() && p.common.config_path) return std::nullopt;
  if (p.positional.size() != 1 || p.positional[0].find('@') == std::string::npos) {
    std::fprintf(stderr, "ferry: probe: exactly one recipient address is needed\n");
    probe_usage(stderr);
    return kExitUsage;
  }
  return std::nullopt;
}

std::optional<probe::ProbeTls> tls_mode(const std::string& name) {
  if (name == "none") return probe::ProbeTls::None;
  if (name == "opportunistic") return probe::ProbeTls::Opportunistic;
  if (name == "verify") return probe::ProbeTls::Verify;
  if (name == "implicit") return probe::ProbeTls::Implicit;
  return std::nullopt;
}

// --send FILE or - (standard input), with CRLF line ends; nullopt (after saying so) if unreadable.
std::optional<std::string> message_to_send(const std::string& source) {
  std::string content;
  if (source == "-") {
    content.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ferry: probe: cannot read %s\n", source.c_str());
      return std::nullopt;
    }
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return text::to_crlf(content);
}

// The command line over the configuration's defaults; an exit code on a usage error.
std::optional<int> apply_probe_args(const ProbeArgs& p, const config::Config& cfg,
                                    probe::ProbeOptions& options) {
  options.recipient = p.positional.empty() ? cfg.local.admin : p.positional[0];
  if (options.recipient.empty()) {
    std::fprintf(stderr,
                 "ferry: probe: no ADDRESS given and [local] admin is not set in the configuration\n");
    return kExitUsage;
  }
  // A test message leaves as the host's own mail does: a smarthost may refuse the null sender
  // or a sender outside the domain its account is for.
  if (p.send_test && !p.from && !cfg.local.masquerade.empty())
    options.sender = "postmaster@" + cfg.local.masquerade;
  if (p.host) options.host = *p.host;
  if (p.port) options.port = *p.port;
  if (p.ehlo) options.ehlo_name = *p.ehlo;
  if (p.from) options.sender = *p.from;
  if (p.timeout_s) options.command_timeout = std::chrono::seconds(p.timeout_s);
  if (p.tls) {
    const std::optional<probe::ProbeTls> mode = tls_mode(*p.tls);
    if (!mode) {
      std::fprintf(stderr, "ferry: probe: --tls must be none, opportunistic, verify or implicit\n");
      return kExitUsage;
    }
    options.tls = *mode;
  }
  if (p.auth) {
    const auto colon = p.auth->find(':');
    if (colon == std::string::npos || colon == 0) {
      std::fprintf(stderr, "ferry: probe: --auth wants USER:PASS\n");
      return kExitUsage;
    }
    options.auth_user = p.auth->substr(0, colon);
    options.auth_password = p.auth->substr(colon + 1);
  }
  if (p.send) {
    std::optional<std::string> message = message_to_send(*p.send);
    if (!message) return kExitUsage;
    options.message = std::move(*message);
  } else if (p.send_test) {
    options.message = test_message(options.sender, options.recipient, options.ehlo_name);
  }
  return std::nullopt;
}

void print_verdict(const probe::ProbeResult& result, int exit_code) {
  std::string verdict = probe::to_string(result.verdict);
  for (auto& ch : verdict) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::printf("Result: %s (exit %d): %s\n", verdict.c_str(), exit_code,
              text::safe_text(result.summary).c_str());
  if (!result.category.empty())
    std::printf("  category: %s%s\n  advice:   %s\n", result.category.c_str(),
                result.detail.empty() ? "" : (" (" + text::safe_text(result.detail) + ")").c_str(),
                result.advice.c_str());
  std::printf("  total time: %.1f ms\n", result.total_ms);
}

}  // namespace

int cmd_probe(const Args& raw) {
  ProbeArgs p;
  if (auto rc = parse_probe_args(raw, p)) return *rc;
  auto cfg = load_cli_config(p.common);
  if (!cfg) return kExitConfig;
  auto from_config = probe::probe_options_from_config(*cfg, system_host_name());
  if (!from_config) {
    std::fprintf(stderr, "ferry: probe: %s\n", from_config.error().message.c_str());
    return kExitConfig;
  }
  probe::ProbeOptions options = std::move(*from_config);
  if (auto rc = apply_probe_args(p, *cfg, options)) return *rc;

  std::function<void(const std::string&)> progress;
  // The transcript shows what the remote server wrote: escaped, so its bytes cannot drive the
  // terminal (ESC sequences) or fake lines (CR).
  if (!p.json)
    progress = [](const std::string& line) {
      std::fputs(text::safe_text(line).c_str(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    };
  const probe::ProbeResult result = probe::run_probe(options, progress);
  const int exit_code = static_cast<int>(result.verdict);
  if (p.json)
    std::fputs(result_json(result, exit_code).c_str(), stdout);
  else
    print_verdict(result, exit_code);
  return exit_code;
}

}  // namespace ferry::cli
