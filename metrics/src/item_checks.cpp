#include "item_checks.hpp"

#include <cmath>
#include <string>

#include "qdgen/metrics/vendi.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics::detail {

void check_item_count(std::int64_t n) {
  if (n == 0) throw std::runtime_error("the set is empty; expected at least 2 items");
  if (n == 1) {
    throw std::runtime_error("the set has 1 item; expected at least 2 (diversity of one is 1)");
  }
}

Eigen::VectorXd sqrt_probabilities(std::span<const double> weights, std::int64_t n) {
  if (weights.empty()) return Eigen::VectorXd::Constant(n, std::sqrt(1.0 / static_cast<double>(n)));
  check_weights(weights, n);
  double sum = 0;
  for (double w : weights) sum += w;
  Eigen::VectorXd roots(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    roots(i) = std::sqrt(weights[static_cast<std::size_t>(i)] / sum);
  }
  return roots;
}

std::runtime_error non_finite(std::int64_t row, std::int64_t col, double value) {
  return std::runtime_error("row " + std::to_string(row + 1) + ", column " +
                            std::to_string(col + 1) + " is " + format_number(value) +
                            "; expected finite numbers");
}

void throw_first_non_finite(const MatrixView& x) {
  for (std::int64_t i = 0; i < x.rows; ++i) {
    for (std::int64_t j = 0; j < x.cols; ++j) {
      if (!std::isfinite(x.at(i, j))) throw non_finite(i, j, x.at(i, j));
    }
  }
  throw std::logic_error("throw_first_non_finite: every value is finite");
}

}  // namespace qdgen::metrics::detail
