// AuthFailureTracker: see AuthFailureTracker.hpp.
#include "mta/inbound/AuthFailureTracker.hpp"

#include <cstdio>

#include "ferry/text/IpAddress.hpp"

namespace ferry::inbound {

std::string auth_client_key(std::string_view ip) {
  const auto a = text::IpAddress::parse_scoped(ip);
  if (!a) return std::string(ip);
  const auto& b = a->bytes;
  if (a->v4 || a->is_v4_mapped())
    return std::to_string(b[12]) + "." + std::to_string(b[13]) + "." + std::to_string(b[14]) + "." +
           std::to_string(b[15]);
  char text[40];
  std::snprintf(text, sizeof text, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1], b[2], b[3], b[4],
                b[5], b[6], b[7]);
  return text;
}

bool AuthFailureTracker::blocked(const std::string& key, Clock::time_point now) const {
  auto it = entries_.find(key);
  return it != entries_.end() && now < it->second.blocked_until;
}

bool AuthFailureTracker::failed(const std::string& key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_entries && !lru_.empty()) {
      entries_.erase(lru_.back());  // forget the address seen least recently
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = entries_.emplace(key, Entry{}).first;
    it->second.lru = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Entry& e = it->second;
  while (!e.failures.empty() && e.failures.front() + limits_.window <= now) e.failures.pop_front();
  e.failures.push_back(now);
  if (e.failures.size() > limits_.max_failures) e.failures.pop_front();  // only the last few matter
  if (e.failures.size() < limits_.max_failures) return false;
  e.blocked_until = now + limits_.block;
  e.failures.clear();  // after the block, a fresh series of failures is needed for the next one
  return true;
}

}  // namespace ferry::inbound
