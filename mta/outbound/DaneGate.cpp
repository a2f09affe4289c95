// DaneGate: see DaneGate.hpp.
#include "mta/outbound/DaneGate.hpp"

#include "mta/net/Completion.hpp"
#include "mta/outbound/DnsPlan.hpp"

namespace ferry::outbound {

boost::asio::awaitable<delivery::DaneDecision> dane_for_host(net::Resolver& resolver,
                                                             boost::asio::any_io_executor executor,
                                                             std::string domain, std::string host,
                                                             std::uint16_t port) {
  // Named awaitables, awaited alone: GCC 12 mishandles temporaries inside a co_await expression.
  auto mx_lookup = net::resolve_mx(resolver, executor, domain);
  const net::MxAnswer mx = co_await std::move(mx_lookup);
  auto address_lookup = net::resolve_addresses(resolver, executor, host);
  const net::AddressAnswer address = co_await std::move(address_lookup);
  if (!delivery::tlsa_lookup_needed(mx.authenticated, address.authenticated))
    co_return delivery::DaneDecision{};
  const std::string name = delivery::tlsa_name(host, port);
  auto tlsa_lookup = net::resolve_tlsa(resolver, executor, name);
  const net::TlsaAnswer tlsa = co_await std::move(tlsa_lookup);
  co_return delivery::decide_dane(plan_tlsa_lookup(tlsa), name);
}

}  // namespace ferry::outbound
