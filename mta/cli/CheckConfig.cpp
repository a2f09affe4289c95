// CheckConfig: `ferry check-config [FILE | --config FILE]`: validate and print the effective config.
// Contract: exit 0 and the rendered TOML on stdout; on error one line on stderr and exit 78.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "mta/cli/Commands.hpp"
#include "mta/config/Config.hpp"
#include "mta/config/ConfigWarnings.hpp"
#include "mta/inbound/TokenFile.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/outbound/EventSecret.hpp"
#include "mta/policy/RouteRules.hpp"

namespace ferry::cli {
namespace {

void check_config_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry check-config [FILE | --config FILE]\n"
      "  validates FILE laid over the built-in default (the default alone without FILE)\n"
      "  and prints the effective configuration\n",
      out);
}

// The command line: the one FILE (or none). An exit code when the command ends here.
std::optional<int> parse_check_config_args(const Args& args, std::optional<std::string>& file) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<std::string> value;
    if (a == "-h" || a == "--help") {
      check_config_usage(stdout);
      return kExitOk;
    }
    if (a == "--config" || a == "-c") {
      if (i + 1 == args.size()) {
        std::fprintf(stderr, "ferry check-config: %s needs a FILE\n", a.c_str());
        check_config_usage(stderr);
        return kExitUsage;
      }
      value = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      value = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "ferry check-config: unknown option '%s'\n", a.c_str());
      check_config_usage(stderr);
      return kExitUsage;
    } else {
      value = a;
    }
    if (file) {
      std::fputs("ferry check-config: only one configuration file may be given\n", stderr);
      check_config_usage(stderr);
      return kExitUsage;
    }
    file = std::move(value);
  }
  return std::nullopt;
}

// The files the configuration names, read as `ferry serve` reads them at start: the first
// problem as the line to print ("" when none).
std::string check_named_files(const config::Config& cfg) {
  // [[dkim]] keys are files: load and test-sign them as `ferry serve` will.
  if (auto e = check_dkim_keys(cfg); !e.empty()) return e;
  // [[route]] auth_password_file: read as the daemon reads it (an unreadable one refuses start-up).
  if (auto routes = policy::route_rules(cfg, net::check_ca_file); !routes) return routes.error().message;
  if (!cfg.mta_sts.ca_file.empty())
    if (auto ca = net::check_ca_file(cfg.mta_sts.ca_file); !ca) return "[mta_sts] " + ca.error().message;
  // [[events]]: each webhook's secret and CA file, as `ferry serve` loads them at start.
  for (const auto& sink : cfg.events) {
    Result<void> ok;
    if (!sink.secret_file.empty())
      if (auto secret = outbound::read_event_secret(sink.secret_file); !secret) ok = secret.error();
    if (ok && !sink.ca_file.empty()) ok = net::check_ca_file(sink.ca_file);
    if (!ok) return "[[events]] " + sink.webhook + ": " + ok.error().message;
  }
  // [[http]] token_file: read as the daemon reads it (private, well-formed, no symlink).
  for (const auto& h : cfg.http)
    if (auto tokens = inbound::TokenFile::load(h.token_file); !tokens)
      return "[[http]] token_file: " + tokens.error().message;
  return "";
}

}  // namespace

int cmd_check_config(const Args& args) {
  std::optional<std::string> file;
  if (auto done = parse_check_config_args(args, file)) return *done;
  auto loaded = config::load_config(file);
  if (!loaded) {
    std::fprintf(stderr, "ferry: configuration error: %s\n", loaded.error().str().c_str());
    return kExitConfig;
  }
  if (auto e = check_named_files(*loaded); !e.empty()) {
    std::fprintf(stderr, "ferry: configuration error: %s\n", e.c_str());
    return kExitConfig;
  }
  // Valid but surprising on a small host: said on stderr, the exit status stays 0.
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  for (const auto& w : config::config_warnings(*loaded, host))
    std::fprintf(stderr, "ferry check-config: warning: %s\n", w.c_str());
  const std::string text = config::render(*loaded);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace ferry::cli
