#pragma once
// Draws built on raw 64-bit words of std::mt19937_64 (never std:: distributions), so that a
// seed means the same run with any standard library.

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

namespace qdgen::inference::training {

// Uniform in [0, n) without modulo bias: words in the last incomplete block of n are
// drawn again.
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  for (;;) {
    const std::uint64_t word = rng();
    if (word < limit) return word % n;
  }
}

// Uniform in (0, 1): 53 random bits, never 0 (the normal draw takes its logarithm).
inline double uniform_open01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// A standard normal pair by Box-Muller (two words per pair).
inline void normal_pair(std::mt19937_64& rng, double& first, double& second) {
  const double radius = std::sqrt(-2.0 * std::log(uniform_open01(rng)));
  const double angle = 2.0 * std::numbers::pi * uniform_open01(rng);
  first = radius * std::cos(angle);
  second = radius * std::sin(angle);
}

template <typename T>
void shuffle_in_place(std::mt19937_64& rng, std::vector<T>& items) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[uniform_below(rng, i)]);
  }
}

}  // namespace qdgen::inference::training
