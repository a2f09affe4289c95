// TlsrptCommand: `ferry tlsrpt send [--day YYYY-MM-DD]`: asks the running daemon (through its
// control socket) to send a day's SMTP TLS reports (RFC 8460) now instead of after midnight UTC,
// for tests and for an operator checking the reports. The default day is yesterday (UTC).
#include <cstdio>
#include <optional>
#include <string>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/delivery/TlsReport.hpp"
#include "mta/ops/ControlSocket.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::cli {

namespace {

int usage() {
  std::fputs("usage: ferry tlsrpt send [--day YYYY-MM-DD] [--config FILE]\n", stderr);
  return kExitUsage;
}

}  // namespace

int cmd_tlsrpt(const Args& raw) {
  CommonOptions common;
  Args args;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  if (args.empty() || args[0] != "send") return usage();
  std::optional<std::int64_t> day = delivery::utc_day(now_ms()) - 1;
  if (args.size() == 3 && args[1] == "--day")
    day = delivery::parse_day(args[2]);
  else if (args.size() != 1)
    return usage();
  if (!day) {
    std::fprintf(stderr, "ferry: tlsrpt: %s is not a date (YYYY-MM-DD)\n", args[2].c_str());
    return kExitUsage;
  }
  auto config = load_cli_config(common);
  if (!config) return kExitConfig;
  if (!config->tls_report.enabled) {
    std::fputs("ferry: tlsrpt: [tls_report] enabled is false\n", stderr);
    return kExitConfig;
  }
  if (auto access = become_queue_owner(*config); access.kind != QueueAccess::Kind::Owner) {
    std::fprintf(stderr, "ferry: tlsrpt: %s\n", access.message.c_str());
    return access.kind == QueueAccess::Kind::NotOwner ? kExitNoPerm : kExitTempFail;
  }
  if (!ops::send_control_command(config->queue.path, "tlsrpt-send " + delivery::day_text(*day))) {
    std::fputs("ferry: tlsrpt: the daemon did not take the command (is it running?)\n", stderr);
    return kExitTempFail;
  }
  std::printf("sending the TLS reports of %s\n", delivery::day_text(*day).c_str());
  return kExitOk;
}

}  // namespace ferry::cli
