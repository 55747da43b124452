#include "qdgen/engine/cma_es.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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
