// InterfaceAddresses: see InterfaceAddresses.hpp.
#include "mta/net/InterfaceAddresses.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace ferry::net {

std::vector<std::string> addresses_of(const ifaddrs* list) {
  std::vector<std::string> out;
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;  // e.g. a tunnel without an address
    char text[INET6_ADDRSTRLEN] = {};
    const int family = i->ifa_addr->sa_family;
    const void* raw = nullptr;
    if (family == AF_INET)
      raw = &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    else if (family == AF_INET6)
      raw = &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr;
    else
      continue;  // AF_PACKET and friends
    if (!inet_ntop(family, raw, text, sizeof text)) continue;
    std::string address(text);
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(std::move(address));
  }
  return out;
}

std::vector<std::string> interface_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::vector<std::string> out = addresses_of(list);
  freeifaddrs(list);
  return out;
}

}  // namespace ferry::net
