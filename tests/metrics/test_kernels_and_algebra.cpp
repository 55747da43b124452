#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <random>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "random_rows.hpp"

namespace qdgen::metrics {
namespace {

using qdgen_test::random_rows;

TEST(LinearAlgebra, LapackEigenvaluesMatchEigensSolver) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    const Eigen::MatrixXd a = random_rows(40 + seed, 40 + seed, seed);
    const Eigen::MatrixXd symmetric = a + a.transpose();
    const Eigen::VectorXd lapack = symmetric_eigenvalues(symmetric);
    const Eigen::VectorXd eigen =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(symmetric, Eigen::EigenvaluesOnly)
            .eigenvalues();
    EXPECT_LT((lapack - eigen).cwiseAbs().maxCoeff(), 1e-10 * eigen.cwiseAbs().maxCoeff());
  }
  EXPECT_THROW(symmetric_eigenvalues(Eigen::MatrixXd::Zero(2, 3)), std::runtime_error);
}

// Large matrices take the two-stage solver: X Xᵀ of 3,500 rows in 6 dimensions has the
// eigenvalues of the 6 x 6 XᵀX and 3,494 zeros.
TEST(LinearAlgebra, TwoStageEigenvaluesOfALargeLowRankMatrix) {
  const Eigen::MatrixXd x = random_rows(3500, 6, 9);
  const Eigen::VectorXd lapack = symmetric_eigenvalues(x * x.transpose());
  const Eigen::VectorXd small =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(x.transpose() * x, Eigen::EigenvaluesOnly)
          .eigenvalues();
  const double scale = small.maxCoeff();
  EXPECT_LT((lapack.tail(6) - small).cwiseAbs().maxCoeff(), 1e-10 * scale);
  EXPECT_LT(lapack.head(3494).cwiseAbs().maxCoeff(), 1e-10 * scale);
}

TEST(LinearAlgebra, BlasGramMatricesMatchPlainProducts) {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const Eigen::MatrixXd x = random_rows(17 * seed, 5 + seed, seed);
    EXPECT_LT((gram_of_columns(x) - x.transpose() * x).cwiseAbs().maxCoeff(), 1e-10);
    EXPECT_LT((gram_of_rows(x) - x * x.transpose()).cwiseAbs().maxCoeff(), 1e-10);
  }
}

// Blocked scaling must equal scaling a full copy, whether the block size divides the summed
// dimension, leaves a remainder, equals it or exceeds it.
TEST(LinearAlgebra, ScaledGramMatricesMatchScaledCopiesForEveryBlocking) {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const Eigen::MatrixXd x = random_rows(23 * seed, 6 + seed, seed);
    const Eigen::VectorXd scale = random_rows(x.rows(), 1, seed + 10).col(0);
    const Eigen::MatrixXd y = scale.asDiagonal() * x;
    const Eigen::MatrixXd columns = y.transpose() * y, rows = y * y.transpose();
    for (Eigen::Index block : {Eigen::Index{0}, Eigen::Index{1}, Eigen::Index{3}, Eigen::Index{7},
                               x.cols(), x.rows(), x.rows() + 5}) {
      EXPECT_LT((scaled_gram_of_columns(x, scale, block) - columns).cwiseAbs().maxCoeff(), 1e-10)
          << "block " << block;
      EXPECT_LT((scaled_gram_of_rows(x, scale, block) - rows).cwiseAbs().maxCoeff(), 1e-10)
          << "block " << block;
    }
  }
  EXPECT_THROW(scaled_gram_of_columns(Eigen::MatrixXd::Ones(4, 2), Eigen::VectorXd::Ones(3)),
               std::runtime_error);
}

TEST(Kernels, ParseAndPrintRoundTrip) {
  for (const char* spec : {"cosine", "linear", "rbf:0.5", "precomputed", "ngram:3"}) {
    EXPECT_EQ(to_string(parse_kernel(spec)), spec);
  }
  EXPECT_DOUBLE_EQ(parse_kernel("rbf:2.5").rbf_sigma, 2.5);
  EXPECT_EQ(parse_kernel("ngram:4").ngram_order, 4);
}

TEST(Kernels, MatricesFollowTheirDefinitions) {
  const Eigen::MatrixXd x = random_rows(7, 3, 5);
  const Eigen::MatrixXd cosine = kernel_matrix(x, parse_kernel("cosine"));
  const Eigen::MatrixXd rbf = kernel_matrix(x, parse_kernel("rbf:1.5"));
  const Eigen::MatrixXd linear = kernel_matrix(x, parse_kernel("linear"));
  for (int i = 0; i < 7; ++i) {
    EXPECT_NEAR(cosine(i, i), 1, 1e-12);
    EXPECT_DOUBLE_EQ(rbf(i, i), 1);
    for (int j = 0; j < 7; ++j) {
      EXPECT_NEAR(cosine(i, j), x.row(i).dot(x.row(j)) / (x.row(i).norm() * x.row(j).norm()),
                  1e-12);
      EXPECT_NEAR(rbf(i, j), std::exp(-(x.row(i) - x.row(j)).squaredNorm() / (2 * 1.5 * 1.5)),
                  1e-12);
      EXPECT_NEAR(linear(i, j), x.row(i).dot(x.row(j)), 1e-12);
    }
  }
}

}  // namespace
}  // namespace qdgen::metrics
