// AddressLookups: the A/AAAA lookups of one delivery's MX hosts, run in parallel, and when their
// answers are enough to plan the targets (RFC 5321 §5.1). Contract: pure; done() as soon as the
// hosts that answered, taken in MX order without a gap, give max_addresses targets, or when every
// host looked up answered; targets() plans from exactly those answers.
#pragma once

#include <optional>
#include <vector>

#include "mta/delivery/MxPlan.hpp"

namespace ferry::delivery {

class AddressLookups {
 public:
  // At most this many hosts are looked up (at least 20): a domain would need that many hosts
  // without a single usable address before a later one could matter, and a hostile MX list
  // must not start thousands of queries.
  static std::size_t host_limit(std::size_t max_addresses);

  AddressLookups(std::vector<MxHost> hosts, MxPlanOptions options);

  // The hosts to look up, all at once, in MX order (answer() takes the same index).
  const std::vector<MxHost>& hosts() const { return hosts_; }
  // One host's answer; a second answer for the same index is ignored.
  void answer(std::size_t index, HostAddresses addresses);
  // No later answer could change the plan: a delivery stops waiting for the rest (slow or
  // unanswered lookups of less preferred hosts do not hold it).
  bool done() const;
  // plan_targets() over the leading hosts that answered (all hosts once all answered).
  Result<std::vector<Target>, NetworkError> targets() const;

 private:
  std::size_t answered_prefix() const;

  std::vector<MxHost> hosts_;
  MxPlanOptions options_;
  std::vector<std::optional<HostAddresses>> answers_;
};

}  // namespace ferry::delivery
