// The Vendi paths read items from a MatrixView: row- or column-major, float32 or float64,
// streamed through BLAS in blocks; rows of extreme magnitude are rescaled before their norms.

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <vector>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/vendi.hpp"
#include "random_rows.hpp"

namespace qdgen::metrics {
namespace {

using qdgen_test::random_rows;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorFloats = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColumnMajorFloats = Eigen::MatrixXf;

constexpr double kInf = std::numeric_limits<double>::infinity();
const std::vector<double> kOrders{0, 0.5, 1, 2, kInf};

template <typename Matrix>
MatrixView view_of(const Matrix& m) {
  using Scalar = typename Matrix::Scalar;
  return {reinterpret_cast<const std::byte*>(m.data()),
          sizeof(Scalar) == 8 ? ScalarType::float64 : ScalarType::float32, m.rows(), m.cols(),
          Matrix::IsRowMajor};
}

void expect_close(const std::vector<double>& a, const std::vector<double>& b, double relative) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], relative * std::abs(b[i])) << "order index " << i;
  }
}

// 1,300 items of 512 features are three blocks of the d x d path (about 2 MB each); the
// reference is the plain product YᵀY/n of the normalised rows and Eigen's eigenvalues.
TEST(VendiViews, StreamedBlocksEqualThePlainGramMatrix) {
  const Eigen::MatrixXd x = random_rows(1300, 512, 4);
  const Eigen::MatrixXd unit = x.rowwise().normalized();
  const Eigen::VectorXd lambda = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(
                                     unit.transpose() * unit / 1300.0, Eigen::EigenvaluesOnly)
                                     .eigenvalues();
  const std::vector<double> expected =
      vendi_scores_of_spectrum(std::vector<double>(lambda.begin(), lambda.end()), kOrders);
  const RowMajorMatrix rows = x;
  for (const MatrixView& view : {MatrixView::of(x), view_of(rows)}) {
    const VendiResult r = vendi_of_features(view, Kernel{}, kOrders);
    EXPECT_EQ(r.path, VendiPath::features_dxd);
    expect_close(r.scores, expected, 1e-11);
  }
}

// Every layout and type gives the scores of the same values as an Eigen matrix, with and
// without weights, under cosine and linear, by both paths.
TEST(VendiViews, EveryLayoutAndTypeGivesTheSameScores) {
  const Eigen::MatrixXd x = random_rows(700, 40, 8);
  const RowMajorFloats floats_by_row = x.cast<float>();
  const ColumnMajorFloats floats_by_column = x.cast<float>();
  const Eigen::MatrixXd rounded = floats_by_column.cast<double>();
  const RowMajorMatrix doubles_by_row = x;
  std::vector<double> weights(700);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = (1.0 + i % 7) / 2800.0;
  for (KernelKind kind : {KernelKind::cosine, KernelKind::linear}) {
    for (const std::vector<double>& w : {std::vector<double>{}, weights}) {
      for (VendiPath path : {VendiPath::features_dxd, VendiPath::kernel_nxn}) {
        const Kernel kernel{.kind = kind};
        const auto scores = [&](const MatrixView& v) {
          return vendi_of_features(v, kernel, kOrders, w, path).scores;
        };
        expect_close(scores(view_of(doubles_by_row)), scores(MatrixView::of(x)), 1e-11);
        const std::vector<double> of_rounded = scores(MatrixView::of(rounded));
        expect_close(scores(view_of(floats_by_row)), of_rounded, 1e-11);
        expect_close(scores(view_of(floats_by_column)), of_rounded, 1e-11);
      }
    }
  }
  const Kernel rbf = parse_kernel("rbf:3");
  expect_close(vendi_of_features(view_of(floats_by_row), rbf, kOrders).scores,
               vendi_of_features(rounded, rbf, kOrders).scores, 1e-11);
}

// Rows of 1e-200 square to 0 and rows of 1e200 to inf: their norms are taken after dividing
// by the row's largest entry, so the cosine kernel (and the linear one, scaled as a whole)
// see the same directions as at unit scale.
TEST(VendiViews, RowsOfTinyOrHugeValuesGiveTheScoresOfUnitScale) {
  const Eigen::MatrixXd x = random_rows(60, 8, 5);
  for (KernelKind kind : {KernelKind::cosine, KernelKind::linear}) {
    for (VendiPath path : {VendiPath::features_dxd, VendiPath::kernel_nxn}) {
      const Kernel kernel{.kind = kind};
      const std::vector<double> unit_scale = vendi_of_features(x, kernel, kOrders, {}, path).scores;
      for (double scale : {1e-200, 1e-300, 1e200, 1e300}) {
        const Eigen::MatrixXd scaled = x * scale;
        expect_close(vendi_of_features(scaled, kernel, kOrders, {}, path).scores, unit_scale,
                     1e-12);
        const RowMajorMatrix by_row = scaled;
        expect_close(vendi_of_features(view_of(by_row), kernel, kOrders, {}, path).scores,
                     unit_scale, 1e-12);
      }
      // Subnormal values keep fewer bits, hence the looser tolerance.
      const Eigen::MatrixXd subnormal = x * 1e-315;
      expect_close(vendi_of_features(subnormal, kernel, kOrders, {}, path).scores, unit_scale,
                   1e-6);
    }
  }
  // Cosine ignores each row's scale, however extreme: alternate rows of 1e-200 and 1e200.
  Eigen::MatrixXd mixed = x;
  for (Eigen::Index i = 0; i < mixed.rows(); ++i) mixed.row(i) *= i % 2 == 0 ? 1e-200 : 1e200;
  expect_close(vendi_scores_of_embeddings(mixed, kOrders), vendi_scores_of_embeddings(x, kOrders),
               1e-12);
  EXPECT_LT(
      (kernel_matrix(x * 1e-200, Kernel{}) - kernel_matrix(x, Kernel{})).cwiseAbs().maxCoeff(),
      1e-14);
}

}  // namespace
}  // namespace qdgen::metrics
