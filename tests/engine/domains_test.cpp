#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "qdgen/engine/benchmark_domains.hpp"
#include "qdgen/engine/random.hpp"

using namespace qdgen::engine;

namespace {
Evaluation eval(const Domain& d, const Eigen::VectorXd& x) {
  return d.evaluate(x);
}
}  // namespace

TEST(SphereDomain, OptimumScoresHundredAndMinusBoundScoresZero) {
  auto sphere = make_sphere_domain(10);
  EXPECT_NEAR(eval(*sphere, Eigen::VectorXd::Constant(10, 2.048)).objective, 100.0, 1e-12);
  EXPECT_NEAR(eval(*sphere, Eigen::VectorXd::Constant(10, -5.12)).objective, 0.0, 1e-12);
}

TEST(SphereDomain, ObjectiveMatchesHandComputedValue) {
  // x = 0: raw = 10 * 2.048^2; worst = 10 * 7.168^2.
  auto sphere = make_sphere_domain(10);
  const double expected = (1.0 - (2.048 * 2.048) / (7.168 * 7.168)) * 100.0;
  EXPECT_NEAR(eval(*sphere, Eigen::VectorXd::Zero(10)).objective, expected, 1e-12);
}

TEST(SphereDomain, MeasuresSumHalvesAndFoldCoordinatesBeyondTheBound) {
  auto sphere = make_sphere_domain(4);
  Eigen::VectorXd x(4);
  x << 1.0, 10.24, -2.0, -20.48;  // 10.24 counts as 0.5, -20.48 as -0.25
  const auto m = eval(*sphere, x).measures;
  ASSERT_EQ(m.size(), 2);
  EXPECT_NEAR(m[0], 1.5, 1e-12);
  EXPECT_NEAR(m[1], -2.25, 1e-12);
}

TEST(SphereDomain, OddDimensionPutsTheExtraCoordinateInTheSecondHalf) {
  auto sphere = make_sphere_domain(3);
  const auto m = eval(*sphere, Eigen::Vector3d(1.0, 2.0, 3.0)).measures;
  EXPECT_DOUBLE_EQ(m[0], 1.0);
  EXPECT_DOUBLE_EQ(m[1], 5.0);
}

TEST(RastriginDomain, OptimumScoresHundredAndMinusBoundScoresZero) {
  auto rastrigin = make_rastrigin_domain(6);
  EXPECT_NEAR(eval(*rastrigin, Eigen::VectorXd::Constant(6, 2.048)).objective, 100.0, 1e-9);
  EXPECT_NEAR(eval(*rastrigin, Eigen::VectorXd::Constant(6, -5.12)).objective, 0.0, 1e-9);
}

TEST(RastriginDomain, LocalMinimaScoreBelowTheOptimum) {
  auto rastrigin = make_rastrigin_domain(6);
  const double at_optimum = eval(*rastrigin, Eigen::VectorXd::Constant(6, 2.048)).objective;
  const double one_off = eval(*rastrigin, Eigen::VectorXd::Constant(6, 3.048)).objective;
  EXPECT_LT(one_off, at_optimum);
}

TEST(ArmDomain, StraightArmReachesItsFullLengthWithObjectiveZero) {
  auto arm = make_arm_domain(5, true);
  const auto e = eval(*arm, Eigen::VectorXd::Zero(5));
  EXPECT_DOUBLE_EQ(e.objective, 0.0);
  EXPECT_NEAR(e.measures[0], 5.0, 1e-12);
  EXPECT_NEAR(e.measures[1], 0.0, 1e-12);
}

TEST(ArmDomain, AnglesAccumulateAlongTheArm) {
  auto arm = make_arm_domain(2, true);
  // First joint up, second turns back by -pi/2: tip = (0,1) + (1,1) = (1, 1).
  const auto e = eval(*arm, Eigen::Vector2d(std::numbers::pi / 2, -std::numbers::pi / 2));
  EXPECT_NEAR(e.measures[0], 1.0, 1e-12);
  EXPECT_NEAR(e.measures[1], 1.0, 1e-12);
  // The objective is minus the population variance of (pi/2, -pi/2), (pi/2)^2.
  EXPECT_NEAR(e.objective, -std::pow(std::numbers::pi / 2, 2), 1e-12);
}

// Angles in [-pi, pi] have a variance of at most pi^2, reached by alternating -pi and pi: so
// the QD offset -pi^2 of the shipped arm configs makes every elite add a non-negative amount.
TEST(ArmDomain, ObjectiveIsAtLeastMinusPiSquaredForClippedAngles) {
  auto arm = make_arm_domain(4, true);
  const double pi = std::numbers::pi;
  EXPECT_NEAR(eval(*arm, Eigen::Vector4d(pi, -pi, pi, -pi)).objective, -pi * pi, 1e-12);
}

TEST(ArmDomain, BoundsAreMinusPiToPiWhenClipping) {
  ASSERT_TRUE(make_arm_domain(3, true)->bounds().has_value());
  EXPECT_DOUBLE_EQ(make_arm_domain(3, true)->bounds()->upper[2], std::numbers::pi);
  EXPECT_FALSE(make_arm_domain(3, false)->bounds().has_value());
}

TEST(Domains, WrongSolutionSizeIsAClearError) {
  auto sphere = make_sphere_domain(4);
  try {
    eval(*sphere, Eigen::VectorXd::Zero(3));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("expected a solution of 4 values, got 3"),
              std::string::npos);
  }
  EXPECT_THROW(sphere->evaluate(std::string("a text")), std::runtime_error);
}

TEST(Domains, MeasuresStayInsideTheSphereBoundForAnyInput) {
  auto sphere = make_sphere_domain(8);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    NoiseRng rng(seed);
    for (int trial = 0; trial < 200; ++trial) {
      Eigen::VectorXd x(8);
      fill_standard_normal(rng, std::span<double>(x.data(), 8));
      x *= 20.0;
      const auto m = eval(*sphere, x).measures;
      EXPECT_LE(std::abs(m[0]), sphere_measure_bound(8) + 1e-9);
      EXPECT_LE(std::abs(m[1]), sphere_measure_bound(8) + 1e-9);
    }
  }
}
