// InterfaceAddresses: this machine's own IP addresses (every interface, loopback included), for
// telling a mail loop from a remote host when a wildcard listener answers on all of them.
// Contract: addresses are canonical IP literals without zone ("192.0.2.10", "2001:db8::5"); an
// error of getifaddrs gives an empty list (the loopback and listener checks still apply).
#pragma once

#include <ifaddrs.h>

#include <string>
#include <vector>

namespace ferry::net {

// The IPv4 and IPv6 addresses in a getifaddrs() list, each once, in list order (separate from
// the system call so that tests can pass a fake interface list).
std::vector<std::string> addresses_of(const ifaddrs* list);

// addresses_of(getifaddrs()): read at start-up and again on every SIGHUP, as addresses change.
std::vector<std::string> interface_addresses();

}  // namespace ferry::net
