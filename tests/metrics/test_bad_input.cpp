// Every bad input gets one clear line naming what is at fault and what was expected.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/vendi.hpp"

namespace qdgen::metrics {
namespace {

const std::vector<double> kOrders{0, 1, 2};

void expect_error(const std::function<void()>& call, const std::string& fragment) {
  try {
    call();
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
}

TEST(BadInput, EmptySetAndOneItem) {
  const Kernel cosine{.kind = KernelKind::cosine};
  expect_error([&] { vendi_of_features(Eigen::MatrixXd(0, 3), cosine, kOrders); }, "empty");
  expect_error([&] { vendi_of_features(Eigen::MatrixXd::Ones(1, 3), cosine, kOrders); },
               "1 item; expected at least 2");
  expect_error([&] { vendi_of_kernel_matrix(Eigen::MatrixXd::Ones(1, 1), kOrders); }, "1 item");
  expect_error([&] { vendi_of_texts(std::vector<std::string>{}, 2, kOrders); }, "empty");
  expect_error([&] { vendi_of_features(Eigen::MatrixXd(3, 0), cosine, kOrders); }, "0 features");
}

TEST(BadInput, NonFiniteValuesNameTheirPlace) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 2);
  x(2, 1) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { vendi_of_features(x, Kernel{}, kOrders); }, "row 3, column 2 is nan");
  x(2, 1) = std::numeric_limits<double>::infinity();
  expect_error([&] { vendi_of_features(x, Kernel{}, kOrders); }, "row 3, column 2 is inf");
}

TEST(BadInput, ZeroVectorsUnderTheCosineKernel) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(4, 2);
  x.row(1).setZero();
  expect_error([&] { vendi_of_features(x, Kernel{}, kOrders); }, "row 2 is a zero vector");
  expect_error([&] { kernel_matrix(x, Kernel{}); }, "row 2 is a zero vector");
  expect_error(
      [&] {
        vendi_of_features(Eigen::MatrixXd::Zero(3, 2), Kernel{.kind = KernelKind::linear}, kOrders);
      },
      "zero vector");
  expect_error(
      [&] {
        vendi_of_texts(std::vector<std::string>{"a", "  "}, 1, kOrders);
      },
      "text 2 has fewer than one word");
}

TEST(BadInput, PrecomputedMatrixSaysWhichPropertyFails) {
  expect_error([&] { vendi_of_kernel_matrix(Eigen::MatrixXd::Identity(3, 4), kOrders); },
               "3 x 4; expected a square matrix");
  Eigen::MatrixXd asymmetric = Eigen::MatrixXd::Identity(3, 3);
  asymmetric(2, 0) = 0.5;
  expect_error([&] { vendi_of_kernel_matrix(asymmetric, kOrders); }, "not symmetric: K[3][1]");
  Eigen::MatrixXd diagonal = Eigen::MatrixXd::Identity(3, 3);
  diagonal(1, 1) = 2;
  expect_error([&] { vendi_of_kernel_matrix(diagonal, kOrders); }, "diagonal K[2][2] = 2");
  Eigen::MatrixXd indefinite(3, 3);
  indefinite << 1, 0.9, 0.9, 0.9, 1, -0.9, 0.9, -0.9, 1;
  expect_error([&] { vendi_of_kernel_matrix(indefinite, kOrders); }, "not positive semi-definite");
}

// A row-major matrix (NumPy's C order) lands transposed in LAPACK's buffer; the messages
// still name K's own entries.
TEST(BadInput, PrecomputedRowMajorMatrixNamesTheSameEntries) {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto view = [](const RowMajor& m) {
    return MatrixView{reinterpret_cast<const std::byte*>(m.data()), ScalarType::float64, m.rows(),
                      m.cols(), true};
  };
  RowMajor asymmetric = RowMajor::Identity(3, 3);
  asymmetric(2, 0) = 0.5;
  expect_error([&] { vendi_of_kernel_matrix(view(asymmetric), kOrders); },
               "not symmetric: K[3][1] = 0.5 but K[1][3] = 0");
  RowMajor diagonal = RowMajor::Identity(3, 3);
  diagonal(1, 1) = 2;
  expect_error([&] { vendi_of_kernel_matrix(view(diagonal), kOrders); }, "diagonal K[2][2] = 2");
  RowMajor with_nan = RowMajor::Identity(3, 3);
  with_nan(0, 2) = std::nan("");
  with_nan(2, 0) = std::nan("");
  expect_error([&] { vendi_of_kernel_matrix(view(with_nan), kOrders); }, "row 3, column 1 is nan");
  expect_error([&] { vendi_of_kernel_matrix(view(RowMajor::Identity(2, 3)), kOrders); },
               "2 x 3; expected a square matrix");
}

// Non-finite values are named before zero rows, in every layout and type, as the first
// non-finite value of the first row that holds one.
TEST(BadInput, NonFiniteValuesComeBeforeZeroRowsInEveryLayout) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(6, 3);
  x.row(1).setZero();
  x(4, 2) = std::numeric_limits<double>::infinity();
  x(5, 0) = std::nan("");
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> by_row = x;
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> floats =
      x.cast<float>();
  const MatrixView views[] = {
      MatrixView::of(x),
      {reinterpret_cast<const std::byte*>(by_row.data()), ScalarType::float64, 6, 3, true},
      {reinterpret_cast<const std::byte*>(floats.data()), ScalarType::float32, 6, 3, true}};
  for (const MatrixView& v : views) {
    for (VendiPath path : {VendiPath::features_dxd, VendiPath::kernel_nxn}) {
      for (KernelKind kind : {KernelKind::cosine, KernelKind::linear}) {
        expect_error([&] { vendi_of_features(v, Kernel{.kind = kind}, kOrders, {}, path); },
                     "row 5, column 3 is inf; expected finite numbers");
      }
    }
    expect_error([&] { vendi_of_features(v, parse_kernel("rbf:1"), kOrders); }, "row 5, column 3");
  }
  x.row(4).setOnes();
  x.row(5).setOnes();
  expect_error([&] { vendi_of_features(x, Kernel{}, kOrders); }, "row 2 is a zero vector");
}

// Row-major blocks are scaled by several threads; the first bad row is still the one named.
TEST(BadInput, ManyRowsNameTheFirstBadRowWhateverThreadScalesIt) {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x =
      Eigen::MatrixXd::Ones(3000, 4);
  const MatrixView view{reinterpret_cast<const std::byte*>(x.data()), ScalarType::float64, 3000, 4,
                        true};
  x.row(2900).setZero();
  x.row(1700).setZero();
  expect_error([&] { vendi_of_features(view, Kernel{}, kOrders); }, "row 1701 is a zero vector");
  x(2500, 1) = std::nan("");
  expect_error([&] { vendi_of_features(view, Kernel{}, kOrders); }, "row 2501, column 2 is nan");
  x(600, 3) = std::numeric_limits<double>::infinity();
  expect_error([&] { vendi_of_features(view, Kernel{}, kOrders); }, "row 601, column 4 is inf");
}

TEST(BadInput, PrecomputedMatrixWithinTolerancesIsAccepted) {
  Eigen::MatrixXd k = Eigen::MatrixXd::Identity(3, 3);
  k(0, 0) = 1 + kDiagonalTolerance / 2;
  k(0, 1) = kSymmetryTolerance / 2;
  EXPECT_NO_THROW(vendi_of_kernel_matrix(k, kOrders));
}

TEST(BadInput, UnknownAndMalformedKernels) {
  expect_error([] { parse_kernel("gaussian"); }, "unknown kernel 'gaussian'; expected cosine");
  expect_error([] { parse_kernel("rbf"); }, "needs a parameter; expected rbf:SIGMA");
  expect_error([] { parse_kernel("rbf:-1"); }, "sigma must be a positive number");
  expect_error([] { parse_kernel("rbf:abc"); }, "sigma must be a positive number");
  expect_error([] { parse_kernel("ngram:0"); }, "N must be an integer from 1 to 16");
  expect_error([] { parse_kernel("ngram:2.5"); }, "N must be an integer");
  expect_error(
      [] {
        vendi_of_features(Eigen::MatrixXd::Identity(3, 3), Kernel{.kind = KernelKind::ngram},
                          kOrders);
      },
      "does not apply to feature rows");
  expect_error(
      [] {
        vendi_of_features(Eigen::MatrixXd::Identity(3, 2), Kernel{.kind = KernelKind::rbf}, kOrders,
                          {}, VendiPath::features_dxd);
      },
      "no d x d path");
}

TEST(BadInput, WeightsThatDoNotMatchOrDoNotSumToOne) {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Identity(3, 3);
  expect_error(
      [&] {
        vendi_of_features(x, Kernel{}, kOrders, std::vector<double>{0.5, 0.5});
      },
      "2 weights for 3 items");
  expect_error(
      [&] {
        vendi_of_features(x, Kernel{}, kOrders, std::vector<double>{0.5, 0.5, 0.5});
      },
      "sum to 1.5; expected 1");
  expect_error(
      [&] {
        vendi_of_features(x, Kernel{}, kOrders, std::vector<double>{1.5, 0, -0.5});
      },
      "weight 3 is -0.5");
  expect_error(
      [&] {
        vendi_of_kernel_matrix(x, kOrders, std::vector<double>{0.2, 0.2, 0.2});
      },
      "sum to 0.6");
  expect_error(
      [&] {
        vendi_of_texts(std::vector<std::string>{"a", "b"}, 1, kOrders, std::vector<double>{1});
      },
      "1 weights for 2 items");
}

TEST(BadInput, NegativeOrdersEverywhere) {
  const std::vector<double> negative{1, -1};
  expect_error([&] { vendi_of_features(Eigen::MatrixXd::Identity(3, 3), Kernel{}, negative); },
               "q = -1 is invalid");
  expect_error([&] { vendi_of_kernel_matrix(Eigen::MatrixXd::Identity(3, 3), negative); },
               "q = -1");
  expect_error([&] { vendi_of_texts(std::vector<std::string>{"a", "b"}, 1, negative); }, "q = -1");
}

}  // namespace
}  // namespace qdgen::metrics
