#pragma once
// Random feature rows (standard normal entries) for metrics tests and benchmarks.

#include <Eigen/Core>
#include <random>

namespace qdgen_test {

inline Eigen::MatrixXd random_rows(Eigen::Index n, Eigen::Index d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(n, d);
  for (Eigen::Index j = 0; j < d; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) x(i, j) = normal(rng);
  }
  return x;
}

}  // namespace qdgen_test
