// RedisStsStore: see RedisStsStore.hpp.
#include "mta/daemon/RedisStsStore.hpp"

#include "mta/daemon/RedisCall.hpp"
#include "mta/delivery/StsShared.hpp"

namespace ferry::daemon {

RedisStsStore::RedisStsStore(cluster::RedisLink& link, boost::asio::any_io_executor executor,
                             std::string node_name)
    : link_(link), executor_(std::move(executor)), node_name_(std::move(node_name)) {}

boost::asio::awaitable<std::optional<std::string>> RedisStsStore::get(const std::string& domain) {
  const std::optional<std::string> key = delivery::sts_shared_key(domain);
  if (!key) co_return std::nullopt;
  std::vector<cluster::Argv> commands{{"GET", *key}};
  auto call = redis_call(link_, executor_, std::move(commands));
  const cluster::Replies replies = co_await std::move(call);
  if (!replies || replies->size() != 1) co_return std::nullopt;  // down or slow: fetch as alone
  const cluster::Reply& r = replies->front();
  if (r.type != cluster::ReplyType::String || r.text.size() > delivery::kStsSharedMaxBytes)
    co_return std::nullopt;
  co_return r.text;
}

void RedisStsStore::put(const std::string& domain, std::string value, std::chrono::milliseconds ttl) {
  const std::optional<std::string> key = delivery::sts_shared_key(domain);
  if (!key || ttl.count() <= 0 || value.size() > delivery::kStsSharedMaxBytes) return;
  cluster::Argv set{"SET", *key, std::move(value), "PX", std::to_string(ttl.count())};
  link_.submit({std::move(set)}, cluster::LinkClock::now() + link_.timeout(), [](cluster::Replies) {});
}

}  // namespace ferry::daemon
