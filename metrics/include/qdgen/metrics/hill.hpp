#pragma once
// Hill numbers: the effective number of species of an abundance vector, of order q
// (0 richness, 1 exp Shannon, 2 inverse Simpson, inf 1 / max p). The Vendi score with
// K = identity.

#include <span>
#include <vector>

namespace qdgen::metrics {

// Abundances are non-negative counts or proportions (normalised here), at least one
// positive. One number per order; throws on q < 0 or bad abundances.
std::vector<double> hill_numbers(std::span<const double> abundances,
                                 std::span<const double> orders);

}  // namespace qdgen::metrics
