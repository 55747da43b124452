#pragma once
// Randomness of a run. The run's one Rng (mt19937_64) makes every decision on the
// scheduler's thread (parents, restarts) and hands each batch of noise its own 64-bit
// seed; the noise itself is drawn on the thread pool from a NoiseRng seeded with it. So a
// run depends on its seed alone, whatever the thread count. Draws are built on raw 64-bit
// words, never on std distributions, whose algorithms differ between standard libraries.

#include <array>
#include <bit>
#include <cstdint>
#include <span>

#include "qdgen/archive/random_draws.hpp"

namespace qdgen::engine {

using archive::Rng;
using archive::uniform01;
using archive::uniform_index;

// xoshiro256++ (Blackman & Vigna, 2019), its state filled by splitmix64 from one seed as
// its authors recommend: small, fast and statistically strong, meant for noise only.
class NoiseRng {
 public:
  explicit NoiseRng(std::uint64_t seed);
  // The raw state (not all zero), for the reference test vectors.
  explicit NoiseRng(const std::array<std::uint64_t, 4>& state) : s_(state) {}
  std::uint64_t operator()() {
    const std::uint64_t result = std::rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

 private:
  std::array<std::uint64_t, 4> s_;
};

// splitmix64 (Steele, Lea & Flood, 2014): advances `state` and returns the next word.
std::uint64_t splitmix64(std::uint64_t& state);

// Independent standard normal draws: Marsaglia & Tsang's 256-layer Ziggurat, one 64-bit
// word per draw on ~99 % of draws.
void fill_standard_normal(NoiseRng& rng, std::span<double> out);
double standard_normal(NoiseRng& rng);

}  // namespace qdgen::engine
