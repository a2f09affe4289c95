// StsAdmin: see StsAdmin.hpp. One io_context of its own, run until the refresh ends.
#include "mta/outbound/StsAdmin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "mta/outbound/StsCache.hpp"

namespace ferry::outbound {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> run_refresh(StsCache& cache, std::string domain, StsRefreshReport& out) {
  const StsOutcome o = co_await cache.refresh(domain);
  out.txt_note = o.txt_note;
  out.source = o.source;
  out.problem = o.problem;
  out.in_force = o.policy.has_value();
  out.cached = o.cached;
}

}  // namespace

StsRefreshReport sts_refresh_now(const config::Config& config, queue::QueueStore& store,
                                 const std::string& domain) {
  StsRefreshReport out;
  asio::io_context io;
  net::ResolverOptions options;
  for (const auto& server : config.dns.servers) options.servers.push_back(server.str());
  auto resolver = net::Resolver::create(io.get_executor(), options);
  if (!resolver) {
    out.source = "none";
    out.problem = "DNS: " + resolver.error().message;
    return out;
  }
  StsCache::Persist persist = [&store, &out](const queue::PolicyCacheRecord& r) {
    if (auto w = store.policy_put(r); !w) out.problem = "cannot write the cache: " + w.error().message;
  };
  StsCache cache(io.get_executor(), *resolver, &store, std::move(persist), config.mta_sts);
  asio::co_spawn(io, run_refresh(cache, domain, out), asio::detached);
  io.run();
  (*resolver)->shutdown();
  return out;
}

}  // namespace ferry::outbound
