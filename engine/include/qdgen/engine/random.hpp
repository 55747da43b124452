#pragma once
// Draws built on raw 64-bit words of the run's Rng, never on std distributions: their
// algorithms differ between standard libraries, and a seed must mean the same run anywhere.

#include <span>

#include "qdgen/archive/random_draws.hpp"

namespace qdgen::engine {

using archive::Rng;
using archive::uniform01;
using archive::uniform_index;

// Fills `out` with independent standard normal draws (Box-Muller, two per pair of words;
// an odd count discards the last spare so the Rng alone carries the state).
void fill_standard_normal(Rng& rng, std::span<double> out);

double standard_normal(Rng& rng);

}  // namespace qdgen::engine
