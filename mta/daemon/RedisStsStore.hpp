// RedisStsStore: the fleet's shared MTA-STS policies in Redis — ferry:sts:<domain> holds the
// policy one node fetched (mta/delivery/StsShared.hpp), with a TTL of what is left of its max_age.
// Contract: get waits at most the [cluster] timeout (RedisCall) and answers nullopt when Redis is
// down, slow, has no such key or answers anything but a string within the size bound; put is a
// SET sent through the link without waiting (a lost put costs another node a fetch). Runs on
// the I/O thread; the ClusterNode whose link it uses outlives it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <string>

#include "mta/cluster/RedisLink.hpp"
#include "mta/outbound/SharedStsStore.hpp"

namespace ferry::daemon {

class RedisStsStore final : public outbound::SharedStsStore {
 public:
  RedisStsStore(cluster::RedisLink& link, boost::asio::any_io_executor executor, std::string node_name);
  boost::asio::awaitable<std::optional<std::string>> get(const std::string& domain) override;
  void put(const std::string& domain, std::string value, std::chrono::milliseconds ttl) override;
  const std::string& node_name() const override { return node_name_; }

 private:
  cluster::RedisLink& link_;
  boost::asio::any_io_executor executor_;
  std::string node_name_;
};

}  // namespace ferry::daemon
