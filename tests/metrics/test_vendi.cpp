#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "qdgen/metrics/linear_algebra.hpp"
#include "qdgen/metrics/vendi.hpp"
#include "random_rows.hpp"

namespace qdgen::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const std::vector<double> kOrders{0, 0.1, 0.5, 1, 1.5, 2, 5, kInf};

using qdgen_test::random_rows;

// m clusters of identical directions along orthonormal axes (a random rotation), each
// point scaled by a random positive factor that the cosine kernel must ignore.
Eigen::MatrixXd orthogonal_clusters(int m, int per_cluster, Eigen::Index d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> scale(0.1, 10);
  const Eigen::MatrixXd basis =
      Eigen::HouseholderQR<Eigen::MatrixXd>(random_rows(d, d, seed)).householderQ();
  Eigen::MatrixXd x(m * per_cluster, d);
  for (int c = 0; c < m; ++c) {
    for (int k = 0; k < per_cluster; ++k) x.row(c * per_cluster + k) = scale(rng) * basis.row(c);
  }
  return x;
}

void expect_all_near(const std::vector<double>& actual, double expected, double tolerance) {
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected, tolerance) << "order index " << i;
  }
}

TEST(Vendi, ClustersOfIdenticalPointsScoreTheNumberOfClustersAtEveryOrder) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    const int m = 2 + static_cast<int>(seed);
    const Eigen::MatrixXd x = orthogonal_clusters(m, 5, 8, seed);
    expect_all_near(vendi_scores_of_embeddings(x, kOrders), m, 1e-9);
    const Kernel cosine{.kind = KernelKind::cosine};
    expect_all_near(vendi_of_features(x, cosine, kOrders, {}, VendiPath::kernel_nxn).scores, m,
                    1e-9);
  }
}

TEST(Vendi, FarApartClustersUnderTheRbfKernelScoreTheNumberOfClusters) {
  Eigen::MatrixXd x(6, 2);
  x << 0, 0, 0, 0, 100, 0, 100, 0, 0, 100, 0, 100;
  const Kernel rbf{.kind = KernelKind::rbf, .rbf_sigma = 1.0};
  expect_all_near(vendi_of_features(x, rbf, kOrders).scores, 3, 1e-9);
}

TEST(Vendi, IdenticalItemsScoreOne) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(10, 4);
  x.col(2).setConstant(3.5);
  expect_all_near(vendi_scores_of_embeddings(x, kOrders), 1, 1e-9);
  const Kernel rbf{.kind = KernelKind::rbf, .rbf_sigma = 0.3};
  expect_all_near(vendi_of_features(x, rbf, kOrders).scores, 1, 1e-9);
  expect_all_near(vendi_of_kernel_matrix(Eigen::MatrixXd::Ones(5, 5), kOrders).scores, 1, 1e-9);
}

TEST(Vendi, IdentityKernelScoresTheNumberOfItemsWithAndWithoutUniformWeights) {
  const int n = 9;
  const std::vector<double> uniform(n, 1.0 / n);
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(n, n);
  expect_all_near(vendi_of_kernel_matrix(identity, kOrders).scores, n, 1e-9);
  expect_all_near(vendi_of_kernel_matrix(identity, kOrders, uniform).scores, n, 1e-9);
  // Orthonormal rows are the identity kernel under cosine, by either path.
  const Eigen::MatrixXd axes = Eigen::MatrixXd::Identity(n, n);
  expect_all_near(vendi_scores_of_embeddings(axes, kOrders), n, 1e-9);
}

TEST(Vendi, ScoresNeverIncreaseWithTheOrder) {
  std::vector<double> orders;
  for (double q = 0; q <= 6; q += 0.05) orders.push_back(q);
  orders.push_back(kInf);
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const std::vector<double> vs =
        vendi_scores_of_embeddings(random_rows(50, 6 * seed, seed), orders);
    for (std::size_t i = 1; i < vs.size(); ++i) {
      EXPECT_LE(vs[i], vs[i - 1] * (1 + 1e-12)) << "seed " << seed << " q " << orders[i];
    }
    EXPECT_GE(vs.back(), 1 - 1e-12);
    EXPECT_LE(vs.front(), 50 + 1e-9);
  }
}

TEST(Vendi, FeaturePathEqualsKernelPathOnRandomData) {
  for (unsigned seed = 11; seed <= 16; ++seed) {
    const Eigen::Index n = 30 + seed, d = 3 + (seed % 4) * 7;
    const Eigen::MatrixXd x = random_rows(n, d, seed);
    for (KernelKind kind : {KernelKind::cosine, KernelKind::linear}) {
      const Kernel kernel{.kind = kind};
      const VendiResult small = vendi_of_features(x, kernel, kOrders, {}, VendiPath::features_dxd);
      const VendiResult large = vendi_of_features(x, kernel, kOrders, {}, VendiPath::kernel_nxn);
      EXPECT_EQ(small.path, VendiPath::features_dxd);
      EXPECT_EQ(large.path, VendiPath::kernel_nxn);
      for (std::size_t i = 0; i < kOrders.size(); ++i) {
        EXPECT_NEAR(small.scores[i], large.scores[i], 1e-9 * large.scores[i])
            << "seed " << seed << " q " << kOrders[i];
      }
    }
  }
}

TEST(Vendi, AutomaticPathPicksTheSmallerMatrix) {
  const Kernel cosine{.kind = KernelKind::cosine};
  EXPECT_EQ(vendi_of_features(random_rows(20, 5, 1), cosine, kOrders).path,
            VendiPath::features_dxd);
  EXPECT_EQ(vendi_of_features(random_rows(5, 20, 1), cosine, kOrders).path, VendiPath::kernel_nxn);
  const Kernel rbf{.kind = KernelKind::rbf};
  EXPECT_EQ(vendi_of_features(random_rows(20, 5, 1), rbf, kOrders).path, VendiPath::kernel_nxn);
}

TEST(Vendi, CosineFeaturesAgreeWithTheSamePrecomputedMatrix) {
  for (unsigned seed = 21; seed <= 23; ++seed) {
    const Eigen::MatrixXd x = random_rows(25, 40, seed);
    const Eigen::MatrixXd unit = x.rowwise().normalized();
    const Eigen::MatrixXd k = unit * unit.transpose();
    const std::vector<double> a = vendi_scores_of_embeddings(x, kOrders);
    const std::vector<double> b = vendi_of_kernel_matrix(k, kOrders).scores;
    for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9 * b[i]);
  }
}

TEST(Vendi, RankDeficientCosineKernelDoesNotCountRoundOffEigenvalues) {
  // n = 200 items in d = 5 dimensions: K/n has rank 5 and 195 round-off eigenvalues.
  const Eigen::MatrixXd x = random_rows(200, 5, 7);
  const Kernel cosine{.kind = KernelKind::cosine};
  const std::vector<double> orders{0, 0.1, 0.5};
  const VendiResult exact = vendi_of_features(x, cosine, orders, {}, VendiPath::features_dxd);
  const VendiResult full = vendi_of_features(x, cosine, orders, {}, VendiPath::kernel_nxn);
  // Order 0 is a count, reported exactly (not exp(log 5) with its round-off).
  EXPECT_EQ(exact.scores[0], 5.0);
  EXPECT_EQ(full.scores[0], 5.0);
  for (std::size_t i = 1; i < orders.size(); ++i) {
    EXPECT_NEAR(full.scores[i], exact.scores[i], 1e-9 * exact.scores[i]);
  }

  // What counting every positive eigenvalue (the reference package's rule) would give at
  // q = 0.1: the round-off eigenvalues inflate it, which is why the threshold exists.
  const Eigen::MatrixXd unit = x.rowwise().normalized();
  const Eigen::VectorXd lambda = symmetric_eigenvalues(unit * unit.transpose() / 200.0);
  int positive = 0;
  double power_sum = 0;
  for (double l : lambda) {
    if (l > 0) {
      ++positive;
      power_sum += std::pow(l, 0.1);
    }
  }
  ASSERT_GT(positive, 5) << "expected round-off eigenvalues above zero";
  const double counted_all = std::pow(power_sum, 1 / 0.9);
  EXPECT_GT(counted_all, 1.1 * exact.scores[1]);
}

TEST(Vendi, UniformWeightsEqualTheUnweightedScore) {
  for (unsigned seed = 31; seed <= 33; ++seed) {
    const Eigen::MatrixXd x = random_rows(12, 4, seed);
    const std::vector<double> uniform(12, 1.0 / 12);
    for (KernelKind kind : {KernelKind::cosine, KernelKind::linear, KernelKind::rbf}) {
      const Kernel kernel{.kind = kind};
      const std::vector<double> a = vendi_of_features(x, kernel, kOrders).scores;
      const std::vector<double> b = vendi_of_features(x, kernel, kOrders, uniform).scores;
      for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-10 * a[i]);
    }
  }
}

TEST(Vendi, WeightsActLikeRepeatedItems) {
  // Items [a, a, b] unweighted equal items [a, b] with weights [2/3, 1/3].
  for (unsigned seed = 41; seed <= 43; ++seed) {
    const Eigen::MatrixXd ab = random_rows(2, 3, seed);
    Eigen::MatrixXd aab(3, 3);
    aab << ab.row(0), ab.row(0), ab.row(1);
    const std::vector<double> weights{2.0 / 3, 1.0 / 3};
    for (VendiPath path : {VendiPath::features_dxd, VendiPath::kernel_nxn}) {
      const Kernel cosine{.kind = KernelKind::cosine};
      const std::vector<double> repeated = vendi_of_features(aab, cosine, kOrders, {}, path).scores;
      const std::vector<double> weighted =
          vendi_of_features(ab, cosine, kOrders, weights, path).scores;
      for (std::size_t i = 0; i < kOrders.size(); ++i) {
        EXPECT_NEAR(repeated[i], weighted[i], 1e-9) << "q " << kOrders[i];
      }
    }
  }
}

TEST(Vendi, ZeroWeightDropsAnItem) {
  const Eigen::MatrixXd x = random_rows(4, 6, 5);
  const std::vector<double> weights{0.25 + 0.25 / 3, 0.25 + 0.25 / 3, 0, 0.25 + 0.25 / 3};
  Eigen::MatrixXd without(3, 6);
  without << x.row(0), x.row(1), x.row(3);
  const Kernel cosine{.kind = KernelKind::cosine};
  const std::vector<double> a = vendi_of_features(x, cosine, kOrders, weights).scores;
  const std::vector<double> b = vendi_of_features(without, cosine, kOrders).scores;
  for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9);
}

TEST(Vendi, WeightedPrecomputedMatrixMatchesWeightedFeatures) {
  const Eigen::MatrixXd x = random_rows(6, 3, 9);
  const std::vector<double> weights{0.1, 0.2, 0.3, 0.15, 0.05, 0.2};
  const Eigen::MatrixXd unit = x.rowwise().normalized();
  const std::vector<double> a =
      vendi_of_features(x, Kernel{.kind = KernelKind::cosine}, kOrders, weights).scores;
  const std::vector<double> b =
      vendi_of_kernel_matrix(unit * unit.transpose(), kOrders, weights).scores;
  for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9);
}

TEST(Vendi, LinearKernelNormalisesByTheTrace) {
  // Rows 2·e1 and e2: the spectrum 4:1 gives VS_inf = 5/4 and VS_0 = 2.
  Eigen::MatrixXd x(2, 2);
  x << 2, 0, 0, 1;
  const std::vector<double> vs =
      vendi_of_features(x, Kernel{.kind = KernelKind::linear}, std::vector<double>{0, kInf}).scores;
  EXPECT_DOUBLE_EQ(vs[0], 2);
  EXPECT_NEAR(vs[1], 1.25, 1e-12);
  // On unit-norm rows the linear kernel is the cosine kernel.
  const Eigen::MatrixXd unit = random_rows(15, 4, 3).rowwise().normalized();
  const std::vector<double> a =
      vendi_of_features(unit, Kernel{.kind = KernelKind::linear}, kOrders).scores;
  const std::vector<double> b = vendi_scores_of_embeddings(unit, kOrders);
  for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-10 * b[i]);
}

TEST(Vendi, ResultsAreReproducible) {
  const Eigen::MatrixXd x = random_rows(300, 20, 77);
  const std::vector<double> a = vendi_scores_of_embeddings(x, kOrders);
  const std::vector<double> b = vendi_scores_of_embeddings(x, kOrders);
  for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-10 * a[i]);
}

TEST(Vendi, TextsUnderTheNgramKernel) {
  // Unigram counts of "a b" and "a c" have cosine 1/2: eigenvalues of K/2 are 3/4 and 1/4.
  const std::vector<std::string> two{"a b", "a  c\n"};
  const VendiResult r = vendi_of_texts(two, 1, std::vector<double>{1, kInf});
  EXPECT_NEAR(r.scores[0], std::exp(-(0.25 * std::log(0.25) + 0.75 * std::log(0.75))), 1e-12);
  EXPECT_NEAR(r.scores[1], 4.0 / 3, 1e-12);
  EXPECT_EQ(r.d, 3);

  const std::vector<std::string> same{"the cat sat", "the cat sat", "the cat sat"};
  expect_all_near(vendi_of_texts(same, 3, kOrders).scores, 1, 1e-9);
  const std::vector<std::string> disjoint{"one two", "three four", "five six", "seven"};
  expect_all_near(vendi_of_texts(disjoint, 2, kOrders).scores, 4, 1e-9);
  // Word order matters only from bigrams on.
  const std::vector<std::string> swapped{"a b", "b a"};
  EXPECT_NEAR(vendi_of_texts(swapped, 1, std::vector<double>{1}).scores[0], 1, 1e-12);
  EXPECT_GT(vendi_of_texts(swapped, 2, std::vector<double>{1}).scores[0], 1.1);
}

TEST(Vendi, TextsWithFewDistinctNgramsTakeTheFeaturePathAndAgreeWithTheKernelPath) {
  std::vector<std::string> texts;
  for (int i = 0; i < 12; ++i) texts.push_back(i % 3 == 0 ? "x y" : (i % 3 == 1 ? "x" : "y y x"));
  const VendiResult r = vendi_of_texts(texts, 1, kOrders);
  EXPECT_EQ(r.path, VendiPath::features_dxd);
  Eigen::MatrixXd counts(12, 2);  // columns: x, y
  for (int i = 0; i < 12; ++i) {
    counts.row(i) = i % 3 == 0 ? Eigen::RowVector2d(1, 1)
                               : (i % 3 == 1 ? Eigen::RowVector2d(1, 0) : Eigen::RowVector2d(1, 2));
  }
  const std::vector<double> expected = vendi_of_features(counts, Kernel{.kind = KernelKind::cosine},
                                                         kOrders, {}, VendiPath::kernel_nxn)
                                           .scores;
  for (std::size_t i = 0; i < kOrders.size(); ++i) EXPECT_NEAR(r.scores[i], expected[i], 1e-9);
}

}  // namespace
}  // namespace qdgen::metrics
