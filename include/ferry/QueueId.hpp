// QueueId: the identifier of one queued message, shown to clients in "queued as <id>".
// Contract: 64 bits, printed as 16 upper-case hex digits; ids sort by allocation time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

struct QueueId {
  std::uint64_t value = 0;

  std::string str() const {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) out[15 - i] = hex[(value >> (i * 4)) & 0xF];
    return out;
  }

  static std::optional<QueueId> parse(std::string_view text) {
    if (text.empty() || text.size() > 16) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else
        return std::nullopt;
      v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    return QueueId{v};
  }

  friend bool operator==(QueueId a, QueueId b) { return a.value == b.value; }
  friend auto operator<=>(QueueId a, QueueId b) { return a.value <=> b.value; }
};

}  // namespace ferry
