#include "qdgen/engine/cma_es.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qdgen::engine;

namespace {
// Plain CMA-ES minimising a function: rank by value, keep the better half.
template <typename F>
double minimise(CmaEs& es, NoiseRng& rng, F f, int generations,
                const std::optional<SolutionBounds>& bounds = std::nullopt) {
  double best = INFINITY;
  for (int g = 0; g < generations; ++g) {
    const Eigen::MatrixXd& x = es.ask(rng, bounds);
    std::vector<double> values(x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) values[j] = f(Eigen::VectorXd(x.col(j)));
    std::vector<int> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return values[a] < values[b]; });
    best = std::min(best, values[order[0]]);
    es.tell(order, es.batch_size() / 2);
  }
  return best;
}
}  // namespace

TEST(CmaEs, SolvesAShiftedSphereOverSeveralSeeds) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    CmaEs es(10, 0.5, 12);
    es.reset(Eigen::VectorXd::Zero(10));
    NoiseRng rng(seed);
    const double best = minimise(
        es, rng, [](const Eigen::VectorXd& x) { return (x.array() - 1.5).square().sum(); }, 300);
    EXPECT_LT(best, 1e-8) << "seed " << seed;
    EXPECT_NEAR(es.mean()[3], 1.5, 1e-3);
  }
}

TEST(CmaEs, LearnsAnIllConditionedEllipsoid) {
  // Axis scales 1..1e3: without covariance adaptation sigma alone cannot get here.
  CmaEs es(6, 1.0, 10);
  es.reset(Eigen::VectorXd::Constant(6, 1.0));
  NoiseRng rng(9);
  const double best = minimise(
      es, rng,
      [](const Eigen::VectorXd& x) {
        double s = 0;
        for (int i = 0; i < 6; ++i) s += std::pow(1e3, 2.0 * i / 5.0) * x[i] * x[i];
        return s;
      },
      600);
  EXPECT_LT(best, 1e-6);
}

TEST(CmaEs, SamplesRespectBounds) {
  CmaEs es(4, 2.0, 20);
  es.reset(Eigen::VectorXd::Constant(4, 0.9));
  NoiseRng rng(3);
  SolutionBounds bounds{Eigen::VectorXd::Constant(4, -1.0), Eigen::VectorXd::Constant(4, 1.0)};
  const Eigen::MatrixXd& x = es.ask(rng, bounds);
  EXPECT_LE(x.maxCoeff(), 1.0);
  EXPECT_GE(x.minCoeff(), -1.0);
}

TEST(CmaEs, RestoredStateContinuesBitForBit) {
  CmaEs a(5, 0.3, 8);
  a.reset(Eigen::VectorXd::Zero(5));
  NoiseRng rng_a(11);
  auto f = [](const Eigen::VectorXd& x) { return (x.array() - 0.7).square().sum(); };
  minimise(a, rng_a, f, 37);  // past several lazy eigen refreshes
  CmaEs b(5, 0.3, 8);
  b.restore(nlohmann::json::parse(a.state().dump()));
  NoiseRng rng_b = rng_a;
  minimise(a, rng_a, f, 20);
  minimise(b, rng_b, f, 20);
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_EQ(a.sigma(), b.sigma());
}

TEST(CmaEs, StopsOnFlatRankingValues) {
  CmaEs es(3, 0.5, 6);
  EXPECT_TRUE(es.should_stop(0.0));
  EXPECT_FALSE(es.should_stop(1.0));
}

TEST(CmaEs, PyribsRankOneUpdateWeightsTheEvolutionPathByC1Squared) {
  // One generation from the reset state: mean and paths agree between the two variants, and
  // the covariances differ by exactly (c1 - c1^2) pc pc^T (Hansen: c1; pyribs: c1 * c1).
  const int n = 4, lambda = 8, mu = 4;
  const double sigma0 = 0.5;
  CmaEs hansen(n, sigma0, lambda, RankOneUpdate::kHansen);
  CmaEs pyribs(n, sigma0, lambda, RankOneUpdate::kPyribs);
  hansen.reset(Eigen::VectorXd::Zero(n));
  pyribs.reset(Eigen::VectorXd::Zero(n));
  NoiseRng rng_a(5), rng_b(5);
  hansen.ask(rng_a, std::nullopt);
  pyribs.ask(rng_b, std::nullopt);
  std::vector<int> ranking(lambda);
  std::iota(ranking.begin(), ranking.end(), 0);
  hansen.tell(ranking, mu);
  pyribs.tell(ranking, mu);
  ASSERT_EQ(hansen.mean(), pyribs.mean());
  ASSERT_EQ(hansen.sigma(), pyribs.sigma());

  // Hansen's tutorial parameters for mu = 4 truncation weights.
  Eigen::VectorXd w(mu);
  for (int i = 0; i < mu; ++i) w[i] = std::log(mu + 0.5) - std::log(i + 1.0);
  w /= w.sum();
  const double mueff = 1.0 / w.squaredNorm();
  const double cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
  const double cs = (mueff + 2) / (n + mueff + 5);
  const double c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
  const Eigen::VectorXd y = hansen.mean();                                   // the old mean was 0
  const Eigen::VectorXd ps = std::sqrt(cs * (2 - cs) * mueff) / sigma0 * y;  // C = I so far
  const double left = ps.squaredNorm() / n / (1 - std::pow(1 - cs, 2.0));
  ASSERT_LT(left, 2 + 4.0 / (n + 1)) << "hsig = 0 would hide the rank-one term";
  const Eigen::VectorXd pc = std::sqrt(cc * (2 - cc) * mueff) * y;
  const Eigen::MatrixXd expected = (c1 - c1 * c1) * pc * pc.transpose();
  ASSERT_GT(expected.norm(), 1e-6);
  EXPECT_LT((hansen.covariance() - pyribs.covariance() - expected).norm(), 1e-14);
}
