// SignedDns: a DNSSEC test bed on loopback: the zone dane.test signed with ldns-signzone and the
// unsigned zone plain.test, served by nsd, behind unbound as the validating resolver (trust
// anchor: dane.test's key; plain.test declared insecure). Contract: header-only, for tests that
// link tests/integration/support/Subprocess.cpp; both servers run as root in a temporary
// directory on free loopback ports, never as system services, never querying beyond loopback
// (every other name is refused), and are killed when the object goes away.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "integration/support/Subprocess.hpp"

#include "FreePort.hpp"

namespace ferry::test {

struct SignedDnsZones {
  std::string signed_records;  // zone-file lines for dane.test ($ORIGIN dane.test.)
  std::string plain_records;   // zone-file lines for plain.test
  // Text replaced in the signed zone after signing: the RRSIG no longer matches (bogus).
  std::vector<std::pair<std::string, std::string>> corrupt;
  // Zones (delegated in the records above) whose server answers SERVFAIL: nsd is configured for
  // them without data, and unbound is sent there.
  std::vector<std::string> servfail_zones;
};

class SignedDns {
 public:
  explicit SignedDns(const SignedDnsZones& zones) {
    write_zones(zones);
    sign(zones);
    start_nsd(zones);
    start_unbound(zones);
  }
  ~SignedDns() {
    // SIGTERM: nsd's main process then stops its own children (xfrd, the server).
    if (unbound_) unbound_->stop(SIGTERM);
    if (nsd_) nsd_->stop(SIGTERM);
  }
  SignedDns(const SignedDns&) = delete;
  SignedDns& operator=(const SignedDns&) = delete;

  // The validating resolver, for [dns] servers.
  std::string address() const { return "127.0.0.1:" + std::to_string(unbound_port_); }
  const TempDir& dir() const { return dir_; }

  static int free_port() { return free_loopback_port(SOCK_STREAM); }

 private:
  static std::string sh(const std::string& cmd) {
    auto r = run({"/bin/sh", "-c", cmd});
    if (r.exit_code != 0) throw std::runtime_error("SignedDns: `" + cmd + "` failed: " + r.err);
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
    return r.out;
  }

  void write_zones(const SignedDnsZones& z) {
    dir_.write("dane.test.zone",
               "$ORIGIN dane.test.\n$TTL 60\n@ IN SOA ns.dane.test. h.dane.test. 1 3600 600 86400 60\n"
               "@ IN NS ns.dane.test.\nns IN A 127.0.0.1\n" +
                   z.signed_records);
    dir_.write("plain.test.zone",
               "$ORIGIN plain.test.\n$TTL 60\n@ IN SOA ns.plain.test. h.plain.test. 1 3600 600 "
               "86400 60\n@ IN NS ns.plain.test.\nns IN A 127.0.0.1\n" +
                   z.plain_records);
  }

  // A KSK (the trust anchor) and a ZSK, both ECDSA P-256 (RFC 6605); NSEC denial.
  void sign(const SignedDnsZones& z) {
    const std::string cd = "cd " + dir_.path() + " && ";
    ksk_ = sh(cd + "ldns-keygen -a ECDSAP256SHA256 -k dane.test");
    const std::string zsk = sh(cd + "ldns-keygen -a ECDSAP256SHA256 dane.test");
    sh(cd + "ldns-signzone dane.test.zone " + ksk_ + " " + zsk);
    for (const auto& [from, to] : z.corrupt)
      sh(cd + "sed -i 's/" + from + "/" + to + "/' dane.test.zone.signed");
  }

  void start_nsd(const SignedDnsZones& z) {
    nsd_port_ = free_port();
    const std::string d = dir_.path();
    std::string conf = "server:\n  ip-address: 127.0.0.1\n  port: " + std::to_string(nsd_port_) +
                       "\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"" + d + "\"\n  database: \"\"\n" +
                       "  zonelistfile: \"" + d + "/zone.list\"\n  xfrdfile: \"" + d + "/xfrd.state\"\n" +
                       "  xfrdir: \"" + d + "\"\n  pidfile: \"" + d + "/nsd.pid\"\n  server-count: 1\n" +
                       "  do-ip6: no\n  verbosity: 1\nremote-control:\n  control-enable: no\n" +
                       "zone:\n  name: \"dane.test\"\n  zonefile: \"dane.test.zone.signed\"\n" +
                       "zone:\n  name: \"plain.test\"\n  zonefile: \"plain.test.zone\"\n";
    for (const auto& name : z.servfail_zones)
      conf += "zone:\n  name: \"" + name + "\"\n  zonefile: \"missing.zone\"\n";
    dir_.write("nsd.conf", conf);
    nsd_ = std::make_unique<Background>(
        std::vector<std::string>{"/usr/sbin/nsd", "-d", "-c", d + "/nsd.conf"}, d + "/nsd.log");
    if (!nsd_->wait_for_output("nsd started", 20000)) throw std::runtime_error("nsd: " + nsd_->output());
  }

  void start_unbound(const SignedDnsZones& z) {
    unbound_port_ = free_port();
    const std::string d = dir_.path();
    const std::string stub_addr = "  stub-addr: 127.0.0.1@" + std::to_string(nsd_port_) + "\n";
    std::string conf =
        "server:\n  interface: 127.0.0.1\n  port: " + std::to_string(unbound_port_) +
        "\n  username: \"\"\n  chroot: \"\"\n  directory: \"" + d + "\"\n  pidfile: \"\"\n" +
        "  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  do-daemonize: no\n  do-ip6: no\n" +
        "  num-threads: 1\n  so-reuseport: no\n  access-control: 127.0.0.0/8 allow\n" +
        "  do-not-query-localhost: no\n  module-config: \"validator iterator\"\n" +
        "  trust-anchor-file: \"" + d + "/" + ksk_ + ".key\"\n  domain-insecure: \"plain.test\"\n" +
        "  local-zone: \".\" refuse\n  local-zone: \"dane.test.\" transparent\n" +
        "  local-zone: \"plain.test.\" transparent\n  qname-minimisation: no\n  val-log-level: 2\n" +
        "stub-zone:\n  name: \"dane.test\"\n" + stub_addr + "stub-zone:\n  name: \"plain.test\"\n" +
        stub_addr;
    for (const auto& name : z.servfail_zones) conf += "stub-zone:\n  name: \"" + name + "\"\n" + stub_addr;
    dir_.write("unbound.conf", conf);
    unbound_ = std::make_unique<Background>(
        std::vector<std::string>{"/usr/sbin/unbound", "-d", "-c", d + "/unbound.conf"}, d + "/unbound.log");
    if (!unbound_->wait_for_output("start of service", 20000))
      throw std::runtime_error("unbound: " + unbound_->output());
  }

  TempDir dir_;
  std::string ksk_;
  int nsd_port_ = 0, unbound_port_ = 0;
  std::unique_ptr<Background> nsd_, unbound_;
};

}  // namespace ferry::test
