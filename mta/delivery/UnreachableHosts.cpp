// UnreachableHosts: a map from host key to the time it may be tried again.
#include "mta/delivery/UnreachableHosts.hpp"

#include <algorithm>

namespace ferry::delivery {

void UnreachableHosts::mark(std::string_view key, TimeMs until_ms) {
  auto [it, inserted] = until_.try_emplace(std::string(key), until_ms);
  if (!inserted) it->second = std::max(it->second, until_ms);
}

void UnreachableHosts::clear(std::string_view key) { until_.erase(std::string(key)); }

bool UnreachableHosts::is_unreachable(std::string_view key, TimeMs now_ms) const {
  auto it = until_.find(std::string(key));
  return it != until_.end() && now_ms < it->second;
}

TimeMs UnreachableHosts::until(std::string_view key) const {
  auto it = until_.find(std::string(key));
  return it == until_.end() ? 0 : it->second;
}

std::size_t UnreachableHosts::purge(TimeMs now_ms) {
  return std::erase_if(until_, [&](const auto& kv) { return kv.second <= now_ms; });
}

}  // namespace ferry::delivery
