// The eigenvalue cut, max(n, d) · ε · λ_max: real small eigenvalues count, round-off does not.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "qdgen/metrics/vendi.hpp"
#include "random_rows.hpp"

namespace qdgen::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// 150 points of a rank-1 lattice in [0, 5.5)²: x_i = 5.5 i / 150, y_i = 5.5 (23 i mod 150) / 150.
Eigen::MatrixXd lattice_points() {
  const int n = 150;
  Eigen::MatrixXd points(n, 2);
  for (int i = 0; i < n; ++i) {
    points(i, 0) = i * 5.5 / n;
    points(i, 1) = (23 * i % n) * 5.5 / n;
  }
  return points;
}

// The RBF kernel (σ = 2) on those points: the eigenvalues of K/n decay smoothly from the
// largest to 1e-21 of it, 78 of them below 1e-10 of it. The references are 40-digit
// arithmetic (mpmath), from tests/metrics/rbf_vendi_reference.py.
TEST(VendiAccuracy, RbfKernelMatchesFortyDigitArithmeticAtOrdersOneAndAbove) {
  const std::vector<double> orders{1, 1.5, 2, kInf};
  const std::vector<double> reference{5.503230316041853875574721, 4.377965513982838946774002,
                                      3.807141747447859899829837, 2.27725431209789688515955};
  const Eigen::MatrixXd points = lattice_points();
  const Kernel rbf = parse_kernel("rbf:2");
  const VendiResult result = vendi_of_features(points, rbf, orders);
  for (std::size_t i = 0; i < orders.size(); ++i) {
    EXPECT_NEAR(result.scores[i], reference[i], 1e-9 * reference[i]) << "q = " << orders[i];
  }

  // The fixed cut used before, 1e-10 · λ_max, drops real eigenvalues that add up at q = 1.
  const Eigen::VectorXd lambda = symmetric_eigenvalues(kernel_matrix(points, rbf) / 150.0);
  std::vector<double> above_old_cut;
  for (double l : lambda) {
    if (l > 1e-10 * lambda.maxCoeff()) above_old_cut.push_back(l);
  }
  const double old = vendi_scores_of_spectrum(above_old_cut, std::vector<double>{1})[0];
  EXPECT_GT(std::abs(old - reference[0]), 1e-9 * reference[0]) << old;
}

// A cosine kernel of rank 5 on 200 items, given as the precomputed n x n matrix in either
// memory order: its 195 round-off eigenvalues stay below the cut, so low orders (which
// weigh small eigenvalues up) match the exact rank-5 spectrum of the d x d path.
TEST(VendiAccuracy, RankDeficientPrecomputedKernelIsRightAtLowOrders) {
  const std::vector<double> orders{0, 0.1, 0.5, 1};
  for (unsigned seed = 7; seed <= 9; ++seed) {
    const Eigen::MatrixXd x = qdgen_test::random_rows(200, 5, seed);
    const Eigen::MatrixXd unit = x.rowwise().normalized();
    const Eigen::MatrixXd k = unit * unit.transpose();
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> k_rows = k;
    const MatrixView row_major{reinterpret_cast<const std::byte*>(k_rows.data()),
                               ScalarType::float64, 200, 200, true};
    const std::vector<double> exact =
        vendi_of_features(x, Kernel{}, orders, {}, VendiPath::features_dxd).scores;
    for (const VendiResult& r :
         {vendi_of_kernel_matrix(k, orders), vendi_of_kernel_matrix(row_major, orders)}) {
      EXPECT_EQ(r.scores[0], 5.0) << "seed " << seed;
      for (std::size_t i = 1; i < orders.size(); ++i) {
        EXPECT_NEAR(r.scores[i], exact[i], 1e-9 * exact[i])
            << "seed " << seed << " q " << orders[i];
      }
    }
  }
}

}  // namespace
}  // namespace qdgen::metrics
