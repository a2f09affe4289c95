// Random: the injected randomness of delivery policy (jitter, equal-preference MX shuffle).
// Contract: a RandomSource returns uniformly distributed 64-bit values; wrap a seeded engine as
// `[&engine] { return engine(); }`. Nothing in mta/delivery draws randomness any other way.
#pragma once

#include <cstdint>
#include <functional>

namespace ferry::delivery {

using RandomSource = std::function<std::uint64_t()>;

// A double uniformly distributed in [0, 1): the top 53 bits of one draw.
inline double unit_interval(const RandomSource& rand) {
  return static_cast<double>(rand() >> 11) * 0x1.0p-53;
}

// An integer uniformly distributed in [0, n) (n > 0), by rejection so there is no modulo bias.
inline std::uint64_t uniform_below(const RandomSource& rand, std::uint64_t n) {
  if (n <= 1) return 0;
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  for (;;) {
    const std::uint64_t v = rand();
    if (v < limit) return v % n;
  }
}

}  // namespace ferry::delivery
