// Probe: `ferry probe` — resolve, connect and speak SMTP to a recipient's MX with delivery's own
// client (smtp::ClientSession), explaining every step. Contract: runs on its own single-threaded
// io_context; reports human lines as it goes (optional callback) and returns the whole story as
// plain data; never sends DATA unless asked; never shows AUTH credentials.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/RoutePlan.hpp"

namespace ferry::config {
struct Config;
}

namespace ferry::probe {

// How to secure the connection. FromConfig: the route's policy (or opportunistic for MX).
enum class ProbeTls : std::uint8_t { FromConfig, None, Opportunistic, Verify, Implicit };

struct ProbeOptions {
  std::string recipient;                // the address to probe
  std::string sender;                   // MAIL FROM; empty = null reverse path "<>"
  std::string ehlo_name = "localhost";  // EHLO/HELO argument
  std::optional<std::string> host;      // connect here instead of the MX ("mx.example", "192.0.2.1")
  std::optional<std::uint16_t> port;    // overrides the route/delivery port
  std::uint16_t default_port = 25;      // [delivery] port
  ProbeTls tls = ProbeTls::FromConfig;
  std::string auth_user;  // empty = no AUTH
  std::string auth_password;
  std::vector<std::string> dns_servers;     // empty = /etc/resolv.conf
  bool trust_ad = false;                    // [dns] trust_ad
  std::vector<delivery::RouteRule> routes;  // [[route]]
  std::size_t max_addresses = 5;            // [delivery] max_addresses
  std::optional<std::string> message;       // DATA content (CRLF lines, not dot-stuffed)
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  std::chrono::milliseconds command_timeout{std::chrono::seconds(60)};
  // [mta_sts]: the recipient domain's MTA-STS policy is fetched and explained (never cached:
  // the probe does not touch the queue). nullopt = not consulted.
  std::optional<config::MtaStsSection> mta_sts;
};

// The daemon's view of a configuration: DNS servers, port, routes (passwords read), EHLO name.
// `system_host_name` as from gethostname(2). The caller applies its own overrides afterwards.
// An error when a route's password file cannot be read (as the daemon would refuse it).
Result<ProbeOptions> probe_options_from_config(const config::Config& cfg,
                                               const std::string& system_host_name);

// One reply with its explanation.
struct ProbeReply {
  std::string command;  // the command it answers ("greeting", "EHLO", "RCPT TO"...)
  int code = 0;
  std::string status;          // enhanced status "x.y.z" or ""
  std::string text;            // lines joined with "\n"
  std::string code_meaning;    // class + RFC 5321 meaning
  std::string status_meaning;  // RFC 3463 registry meaning
  std::string category;        // ReplyCategory identifier ("" for positive replies)
  std::string advice;
  std::string detail;
  double elapsed_ms = 0;  // since the command was sent
};

struct ProbeDnsRecord {
  std::string value;  // "10 mx1.example.com" or an address
  std::optional<std::uint32_t> ttl;
};

struct ProbeDnsStep {
  std::string name;
  std::string type;    // "MX" or "A/AAAA"
  std::string status;  // "ok", "NXDOMAIN", "no data", "temporary failure"
  std::string error;
  std::vector<ProbeDnsRecord> records;
  double elapsed_ms = 0;
  // DNSSEC: the answer carried the AD bit of a trusted validating resolver (RFC 6840 §5.7).
  bool authenticated = false;
};

struct ProbeCapability {
  std::string keyword;
  std::string parameters;
  std::string explanation;
};

struct ProbeTlsInfo {
  bool established = false;
  std::string version, cipher;
  std::string subject, issuer, not_before, not_after;
  std::vector<std::string> subject_alt_names;
  std::string verify_name;   // the name it was checked against
  bool verified = false;     // chains to a system CA and matches verify_name
  std::string verify_error;  // OpenSSL's reason when not verified
  std::string error;         // handshake failure
  double elapsed_ms = 0;
  // DANE (RFC 7672): the host had usable, validated TLSA records; `dane_match` is the usage of the
  // record the certificate matched ("dane-ee", "dane-ta"), "" when none did.
  bool dane = false;
  std::string dane_match;
};

struct ProbeTranscriptLine {
  char direction = 'S';  // 'C' client, 'S' server, '*' local note
  std::string text;
  double at_ms = 0;  // since the connection started
};

struct ProbeConnection {
  std::string host;
  std::string ip;
  std::uint16_t port = 0;
  bool connected = false;
  std::string error;  // connect failure, timeout, TLS or protocol trouble
  double connect_ms = 0;
  std::vector<ProbeTranscriptLine> transcript;
  std::vector<ProbeReply> replies;
  std::vector<ProbeCapability> capabilities;
  std::optional<ProbeTlsInfo> tls;
};

enum class ProbeVerdict : std::uint8_t {
  Accepted = 0,     // exit 0
  Rejected = 1,     // exit 1: permanent refusal (5xx, null MX)
  TempFail = 2,     // exit 2: 4xx, TLS failure, connection lost mid-session
  Unreachable = 3,  // exit 3: could not resolve or connect
};

const char* to_string(ProbeVerdict verdict) noexcept;

struct ProbeResult {
  std::string recipient, domain, sender;
  std::string route;    // how the next hop was chosen ("MX of example.com", "route ...")
  std::string mx_kind;  // "mx", "implicit", "null", "route", "literal", "host"
  std::vector<ProbeDnsStep> dns;
  std::vector<ProbeConnection> connections;
  ProbeVerdict verdict = ProbeVerdict::Unreachable;
  std::string summary;                    // one line: why
  std::optional<ProbeReply> final_reply;  // the reply that decided (RCPT, DATA, or the last failure)
  std::string category, advice, detail;   // of the deciding reply or local failure
  bool sent_data = false;
  double total_ms = 0;
};

// Runs the probe to completion. `progress` (may be empty) receives human-readable lines as they
// happen, without trailing newline.
ProbeResult run_probe(const ProbeOptions& options,
                      const std::function<void(const std::string&)>& progress = {});

}  // namespace ferry::probe
