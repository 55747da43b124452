#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "qdgen/metrics/hill.hpp"
#include "qdgen/metrics/qd_metrics.hpp"
#include "qdgen/metrics/vendi.hpp"

namespace qdgen::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Hill, HandComputedAbundances) {
  // p = (1/2, 1/4, 1/4): richness 3, exp Shannon 2^1.5, inverse Simpson 1/0.375, 1/max p 2.
  const std::vector<double> q{0, 1, 2, kInf};
  for (const std::vector<double>& abundances :
       {std::vector<double>{0.5, 0.25, 0.25}, std::vector<double>{2, 1, 1}}) {
    const std::vector<double> h = hill_numbers(abundances, q);
    EXPECT_DOUBLE_EQ(h[0], 3);
    EXPECT_NEAR(h[1], std::pow(2.0, 1.5), 1e-12);
    EXPECT_NEAR(h[2], 1 / 0.375, 1e-12);
    EXPECT_NEAR(h[3], 2, 1e-12);
  }
  // q = 1/2: (sum sqrt p)^2.
  const double half = std::pow(std::sqrt(0.5) + 2 * std::sqrt(0.25), 2);
  EXPECT_NEAR(hill_numbers(std::vector<double>{2, 1, 1}, std::vector<double>{0.5})[0], half, 1e-12);
}

TEST(Hill, AbsentSpeciesDoNotCountButRareOnesDo) {
  EXPECT_DOUBLE_EQ(hill_numbers(std::vector<double>{3, 0, 1}, std::vector<double>{0})[0], 2);
  EXPECT_DOUBLE_EQ(hill_numbers(std::vector<double>{1e12, 1}, std::vector<double>{0})[0], 2);
}

TEST(Hill, EqualsTheVendiScoreWithTheIdentityKernel) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform(0, 1);
  const std::vector<double> q{0, 0.3, 1, 2.5, kInf};
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<double> p(6);
    double sum = 0;
    for (double& v : p) sum += (v = uniform(rng));
    for (double& v : p) v /= sum;
    const std::vector<double> h = hill_numbers(p, q);
    const std::vector<double> vs =
        vendi_of_kernel_matrix(Eigen::MatrixXd::Identity(6, 6), q, p).scores;
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(h[i], vs[i], 1e-10);
  }
}

// Abundances are divided by the largest before they are summed or powered: 3 x 1e308 would
// overflow the sum (it printed -nan, -nan, inf), subnormal ones would lose their digits.
TEST(Hill, HugeAndTinyAbundancesAreNormalisedFirst) {
  const std::vector<double> q{0, 0.5, 1, 2, 3, kInf};
  for (double a : {1e308, 1.7e308, 1e-310}) {
    const std::vector<double> h = hill_numbers(std::vector<double>{a, a, a}, q);
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(h[i], 3, 1e-12) << a << " q " << q[i];
  }
  // A species 1e616 times rarer still counts at q = 0, and adds nothing anywhere else.
  const std::vector<double> h = hill_numbers(std::vector<double>{1e308, 1e-308}, q);
  EXPECT_EQ(h[0], 2);
  for (std::size_t i = 1; i < q.size(); ++i) EXPECT_NEAR(h[i], 1, 1e-12) << "q " << q[i];
}

TEST(Hill, BadAbundances) {
  const std::vector<double> q{1};
  EXPECT_THROW(hill_numbers(std::vector<double>{}, q), std::runtime_error);
  try {
    hill_numbers(std::vector<double>{1, -2}, q);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("abundance 2 is -2"), std::string::npos) << e.what();
  }
  try {
    hill_numbers(std::vector<double>{0, 0}, q);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("every abundance is 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(hill_numbers(std::vector<double>{1, std::nan("")}, q), std::runtime_error);
  EXPECT_THROW(hill_numbers(std::vector<double>{1}, std::vector<double>{-1}), std::runtime_error);
}

TEST(QdMetrics, BoundedArchive) {
  const std::vector<double> objectives{1, 2, 6};
  const QdMetrics m = qd_metrics(objectives, 10, -1);
  EXPECT_EQ(m.num_elites, 3);
  EXPECT_EQ(m.num_cells, 10);
  EXPECT_DOUBLE_EQ(m.coverage, 0.3);
  EXPECT_DOUBLE_EQ(m.qd_score, 2 + 3 + 7);
  EXPECT_DOUBLE_EQ(m.norm_qd_score, 1.2);
  EXPECT_DOUBLE_EQ(m.obj_max, 6);
  EXPECT_DOUBLE_EQ(m.obj_mean, 3);
}

TEST(QdMetrics, UnboundedAndEmptyArchives) {
  const QdMetrics unbounded = qd_metrics(std::vector<double>{-3, -1}, 0, -5);
  EXPECT_DOUBLE_EQ(unbounded.coverage, 0);
  EXPECT_DOUBLE_EQ(unbounded.norm_qd_score, 0);
  EXPECT_DOUBLE_EQ(unbounded.qd_score, 2 + 4);
  EXPECT_DOUBLE_EQ(unbounded.obj_max, -1);
  EXPECT_DOUBLE_EQ(unbounded.obj_mean, -2);
  const QdMetrics empty = qd_metrics(std::vector<double>{}, 4, 0);
  EXPECT_EQ(empty.num_elites, 0);
  EXPECT_DOUBLE_EQ(empty.qd_score, 0);
  EXPECT_DOUBLE_EQ(empty.coverage, 0);
}

TEST(QdMetrics, BadInput) {
  EXPECT_THROW(qd_metrics(std::vector<double>{1}, -1, 0), std::runtime_error);
  EXPECT_THROW(qd_metrics(std::vector<double>{1, 2, 3}, 2, 0), std::runtime_error);
  EXPECT_THROW(qd_metrics(std::vector<double>{1, kInf}, 4, 0), std::runtime_error);
  EXPECT_THROW(qd_metrics(std::vector<double>{1}, 4, std::nan("")), std::runtime_error);
}

}  // namespace
}  // namespace qdgen::metrics
