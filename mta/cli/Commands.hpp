// Commands: the `ferry` subcommands (serve, check-config, queue ...).
// Contract: each returns the process exit code and prints its own errors to stderr.
#pragma once

#include <string>
#include <vector>

namespace ferry::config {
struct Config;
}

namespace ferry::cli {

// sysexits(3) codes used across the CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitTempFail = 75;
inline constexpr int kExitNoPerm = 77;
inline constexpr int kExitConfig = 78;

using Args = std::vector<std::string>;

int run_main(int argc, char** argv);
int cmd_serve(const Args& args);
int cmd_check_config(const Args& args);
int cmd_queue(const Args& args);
int cmd_dkim(const Args& args);
// `ferry probe ADDRESS`: resolve, connect and speak SMTP by hand, explained (exit 0/1/2/3).
int cmd_probe(const Args& args);
// `ferry tlsrpt send [--day YYYY-MM-DD]`: the running daemon sends that day's TLS reports now.
int cmd_tlsrpt(const Args& args);
// `ferry sts show|refresh|forget DOMAIN`: the MTA-STS policy cache (RFC 8461) in the queue.
int cmd_sts(const Args& args);
// `ferry suppress list|show|add|remove`: the suppression list in the queue (--json too).
int cmd_suppress(const Args& args);
// `ferry cluster status`: the fleet's nodes seen in Redis ([cluster]).
int cmd_cluster(const Args& args);
// `ferry events tail [-n N] [--follow] [--json]`: the delivery events outbox in the queue.
int cmd_events(const Args& args);
// sendmail(8) compatibility: `ferry sendmail ...`, or run as sendmail / mailq / newaliases.
int cmd_sendmail(const Args& args, bool as_mailq = false);
// `ferry postdrop [-C FILE]` (installed setgid ferry-drop as ferry-postdrop): a maildrop file
// from stdin into the maildrop directory, for sendmail run by users who cannot write the queue.
int cmd_postdrop(const Args& args);

// Loads and test-signs every [[dkim]] key of `cfg`: "" when all are usable, else the error
// naming the file (for check-config; the daemon calls dkim::DkimSigner::create itself).
std::string check_dkim_keys(const config::Config& cfg);

}  // namespace ferry::cli
