#pragma once
// Internal: the checks every Vendi path makes of its items and weights, with their messages.

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "qdgen/metrics/matrix_view.hpp"

namespace qdgen::metrics::detail {

// At least 2 items.
void check_item_count(std::int64_t n);

// Square roots of the item probabilities: uniform 1/n, or the given weights renormalised
// exactly after checking they are a distribution (check_weights).
Eigen::VectorXd sqrt_probabilities(std::span<const double> weights, std::int64_t n);

// "row R, column C is V; expected finite numbers" (0-based arguments).
std::runtime_error non_finite(std::int64_t row, std::int64_t col, double value);

// The first non-finite value of the first row that holds one, by a plain scan: for error
// paths, after a fast check found one.
[[noreturn]] void throw_first_non_finite(const MatrixView& x);

}  // namespace qdgen::metrics::detail
