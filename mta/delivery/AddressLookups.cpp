// AddressLookups: see AddressLookups.hpp.
#include "mta/delivery/AddressLookups.hpp"

#include <algorithm>
#include <span>

namespace ferry::delivery {

std::size_t AddressLookups::host_limit(std::size_t max_addresses) {
  return std::max<std::size_t>(20, 4 * max_addresses);
}

AddressLookups::AddressLookups(std::vector<MxHost> hosts, MxPlanOptions options)
    : hosts_(std::move(hosts)), options_(std::move(options)) {
  if (hosts_.size() > host_limit(options_.max_addresses)) hosts_.resize(host_limit(options_.max_addresses));
  answers_.resize(hosts_.size());
}

void AddressLookups::answer(std::size_t index, HostAddresses addresses) {
  if (index < answers_.size() && !answers_[index]) answers_[index] = std::move(addresses);
}

std::size_t AddressLookups::answered_prefix() const {
  std::size_t n = 0;
  while (n < answers_.size() && answers_[n]) ++n;
  return n;
}

bool AddressLookups::done() const {
  const std::size_t n = answered_prefix();
  if (n == answers_.size()) return true;
  auto planned = targets();
  return planned && planned->size() >= options_.max_addresses;
}

Result<std::vector<Target>, NetworkError> AddressLookups::targets() const {
  const std::size_t n = answered_prefix();
  std::vector<HostAddresses> known;
  for (std::size_t i = 0; i < n; ++i) known.push_back(*answers_[i]);
  return plan_targets(std::span<const MxHost>(hosts_.data(), n), known, options_);
}

}  // namespace ferry::delivery
