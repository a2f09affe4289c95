// SharedStsStore: where the nodes of a fleet share the MTA-STS policies they fetched (the daemon
// implements it over Redis when [cluster] is configured), so one fetch serves every node.
// Contract: get never waits longer than the store's short timeout and answers nullopt when there
// is nothing, or the store is down, slow or answered something unusable; put never waits and
// may be lost. Values are opaque here (mta/delivery/StsShared.hpp encodes and checks them).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace ferry::outbound {

class SharedStsStore {
 public:
  virtual ~SharedStsStore() = default;
  // The value published for `domain` (lower case), at most delivery::kStsSharedMaxBytes. The
  // argument is a reference the caller keeps alive until the await ends.
  virtual boost::asio::awaitable<std::optional<std::string>> get(const std::string& domain) = 0;
  // Publishes `value` for `domain`, to be forgotten after `ttl`.
  virtual void put(const std::string& domain, std::string value, std::chrono::milliseconds ttl) = 0;
  // This node's name, written with what it publishes.
  virtual const std::string& node_name() const = 0;
};

}  // namespace ferry::outbound
