// AuthFailureTracker: failed SMTP AUTH attempts per client address across connections (IPv4 /32,
// IPv6 /64, since one host usually owns a whole /64). Contract: pure, std only, single-threaded;
// the time is passed in; the table holds at most `max_entries` addresses (the least recently
// seen is forgotten first), so many attacking addresses cannot grow it without limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ferry::inbound {

// The tracking key of a client address: "a.b.c.d" for IPv4 (also IPv4-mapped IPv6), the first
// 64 bits in hex followed by "::/64" for IPv6; the text itself when it is no IP address.
std::string auth_client_key(std::string_view ip);

class AuthFailureTracker {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    std::size_t max_failures = 5;  // this many failures within `window` ...
    Clock::duration window = std::chrono::minutes(10);
    Clock::duration block = std::chrono::minutes(10);  // ... refuse AUTH for this long
    std::size_t max_entries = 10000;
  };

  AuthFailureTracker() = default;
  explicit AuthFailureTracker(Limits limits) : limits_(limits) {}

  // True while AUTH from `key` (see auth_client_key) is refused.
  bool blocked(const std::string& key, Clock::time_point now) const;
  // Records a failed AUTH from `key`; true when this failure starts a block.
  bool failed(const std::string& key, Clock::time_point now);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // within the window, oldest first
    Clock::time_point blocked_until{};
    std::list<std::string>::iterator lru;
  };
  Limits limits_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently failed first
};

}  // namespace ferry::inbound
