#pragma once
// Draws from raw 64-bit words of the Rng: std distributions differ between standard
// libraries, and a seed must mean the same run everywhere.

#include <cstdint>

#include "qdgen/archive/elite.hpp"

namespace qdgen::archive {

// Uniform on [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Uniform on {0, ..., n - 1}, n > 0 (modulo bias below 2^-40 for n < 2^24).
inline std::uint64_t uniform_index(Rng& rng, std::uint64_t n) {
  return rng() % n;
}

}  // namespace qdgen::archive
