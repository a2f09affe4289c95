// RunMain: parses the subcommand name and hands the rest of argv to it.
#include <cstdio>
#include <string>
#include <string_view>

#include "mta/cli/Commands.hpp"

namespace ferry::cli {
namespace {

void usage(std::FILE* out) {
  std::fputs(
      "usage: ferry <command> [options]\n"
      "  serve [--config FILE]            run the MTA\n"
      "  check-config [FILE]              validate and print the effective configuration\n"
      "  queue list|show|flush|hold|release|delete ...   administer the queue\n"
      "  dkim keygen|sign ...             make DKIM keys and DNS records; sign a message\n"
      "  probe [options] ADDRESS         test delivery to ADDRESS step by step, explained\n"
      "  tlsrpt send [--day YYYY-MM-DD]   send a day's TLS reports (RFC 8460) now\n"
      "  sts show|refresh|forget DOMAIN   the cached MTA-STS policy of DOMAIN\n"
      "  suppress list|show|add|remove    the suppression list (hard-bounced addresses)\n"
      "  cluster status                   the nodes sharing Redis ([cluster]) and its latency\n"
      "  events tail [--follow] [--json]  the delivery events (received, delivered, bounced...)\n"
      "  version                          print the version\n",
      out);
}

}  // namespace

int run_main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  // Installed as links named sendmail, mailq and newaliases (sendmail(8) compatibility).
  std::string_view self = argc > 0 ? argv[0] : "ferry";
  if (auto slash = self.rfind('/'); slash != std::string_view::npos) self.remove_prefix(slash + 1);
  if (self == "sendmail") return cmd_sendmail(args);
  if (self == "mailq") return cmd_sendmail(args, true);
  if (self == "newaliases") return cmd_sendmail({"-bi"});
  if (args.empty()) {
    usage(stderr);
    return kExitUsage;
  }
  const std::string cmd = args.front();
  Args rest(args.begin() + 1, args.end());
  if (cmd == "serve") return cmd_serve(rest);
  if (cmd == "check-config") return cmd_check_config(rest);
  if (cmd == "queue") return cmd_queue(rest);
  if (cmd == "dkim") return cmd_dkim(rest);
  if (cmd == "probe") return cmd_probe(rest);
  if (cmd == "tlsrpt") return cmd_tlsrpt(rest);
  if (cmd == "sts") return cmd_sts(rest);
  if (cmd == "suppress") return cmd_suppress(rest);
  if (cmd == "cluster") return cmd_cluster(rest);
  if (cmd == "events") return cmd_events(rest);
  if (cmd == "sendmail") return cmd_sendmail(rest);
  if (cmd == "postdrop") return cmd_postdrop(rest);
  if (cmd == "mailq") return cmd_sendmail(rest, true);
  if (cmd == "version" || cmd == "--version") {
    std::puts("ferry 0.1.0");
    return kExitOk;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    usage(stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "ferry: unknown command '%s'\n", cmd.c_str());
  usage(stderr);
  return kExitUsage;
}

}  // namespace ferry::cli
