#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qdgen/metrics/vendi.hpp"

namespace qdgen::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(VendiSpectrum, TwoItemKernelMatchesHandComputedOrders) {
  // K = [[1, .5], [.5, 1]]: eigenvalues of K/2 are 0.75 and 0.25.
  const std::vector<double> lambda{0.25, 0.75};
  const std::vector<double> q{0, 0.5, 1, 2, kInf};
  const std::vector<double> vs = vendi_scores_of_spectrum(lambda, q);
  EXPECT_DOUBLE_EQ(vs[0], 2);
  EXPECT_NEAR(vs[1], std::pow(std::sqrt(0.25) + std::sqrt(0.75), 2), 1e-12);
  EXPECT_NEAR(vs[2], std::exp(-(0.25 * std::log(0.25) + 0.75 * std::log(0.75))), 1e-12);
  EXPECT_NEAR(vs[3], 1 / (0.25 * 0.25 + 0.75 * 0.75), 1e-12);
  EXPECT_NEAR(vs[4], 1 / 0.75, 1e-12);
}

TEST(VendiSpectrum, NormalisesAnUnnormalisedSpectrum) {
  const std::vector<double> q{0.5, 1, 3};
  const std::vector<double> a = vendi_scores_of_spectrum(std::vector<double>{1, 3}, q);
  const std::vector<double> b = vendi_scores_of_spectrum(std::vector<double>{0.25, 0.75}, q);
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
}

TEST(VendiSpectrum, UniformSpectrumScoresItsSizeAtEveryOrder) {
  const std::vector<double> lambda(7, 1.0 / 7);
  for (double q : {0.0, 0.1, 0.5, 1.0, 1.5, 2.0, 10.0, 1000.0, kInf}) {
    EXPECT_NEAR(vendi_scores_of_spectrum(lambda, std::vector<double>{q})[0], 7, 1e-9) << q;
  }
}

TEST(VendiSpectrum, VeryHighOrdersStayFiniteAndApproachTheInfiniteOrder) {
  const std::vector<double> lambda{1e-5, 2e-5, 5e-5};
  const std::vector<double> vs = vendi_scores_of_spectrum(lambda, std::vector<double>{5000, kInf});
  EXPECT_TRUE(std::isfinite(vs[0]));
  EXPECT_NEAR(vs[0], vs[1], 1e-3);
}

TEST(VendiSpectrum, OrdersNearOneApproachTheShannonOrder) {
  const std::vector<double> lambda{0.1, 0.2, 0.3, 0.4};
  const std::vector<double> vs =
      vendi_scores_of_spectrum(lambda, std::vector<double>{1 - 1e-7, 1, 1 + 1e-7});
  EXPECT_NEAR(vs[0], vs[1], 1e-6);
  EXPECT_NEAR(vs[2], vs[1], 1e-6);
}

// A spectrum of n values is counted as an n x n kernel's: above n * epsilon * the largest.
TEST(VendiSpectrum, EigenvaluesBelowTheRelativeCutAreNotCounted) {
  const double cut = relative_eigenvalue_cut(4, 4);
  EXPECT_DOUBLE_EQ(cut, 4 * std::numeric_limits<double>::epsilon());
  const std::vector<double> lambda{0.5, 0.5, 0.5 * cut / 2, -1e-14};
  const std::vector<double> vs = vendi_scores_of_spectrum(lambda, std::vector<double>{0, 0.1});
  EXPECT_DOUBLE_EQ(vs[0], 2);
  EXPECT_NEAR(vs[1], 2, 1e-12);
  const std::vector<double> above{0.5, 0.5, 0.5 * cut * 2, 0};
  EXPECT_DOUBLE_EQ(vendi_scores_of_spectrum(above, std::vector<double>{0})[0], 3);
  // The cut of n items of d features is max(n, d) * epsilon.
  EXPECT_DOUBLE_EQ(relative_eigenvalue_cut(20000, 768),
                   20000 * std::numeric_limits<double>::epsilon());
  EXPECT_DOUBLE_EQ(relative_eigenvalue_cut(5, 300), 300 * std::numeric_limits<double>::epsilon());
}

TEST(VendiSpectrum, RejectsNegativeOrders) {
  try {
    vendi_scores_of_spectrum(std::vector<double>{1}, std::vector<double>{1, -0.5});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("q = -0.5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected q >= 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vendi_scores_of_spectrum(std::vector<double>{1}, std::vector<double>{std::nan("")}),
               std::runtime_error);
  EXPECT_THROW(vendi_scores_of_spectrum(std::vector<double>{1}, std::vector<double>{-kInf}),
               std::runtime_error);
}

TEST(VendiSpectrum, RejectsNegativeSpectraEmptySpectraAndNonFiniteValues) {
  const std::vector<double> q{1};
  try {
    vendi_scores_of_spectrum(std::vector<double>{1, -0.2}, q);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("-0.2 is negative"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vendi_scores_of_spectrum(std::vector<double>{}, q), std::runtime_error);
  EXPECT_THROW(vendi_scores_of_spectrum(std::vector<double>{0, 0}, q), std::runtime_error);
  EXPECT_THROW(vendi_scores_of_spectrum(std::vector<double>{1, kInf}, q), std::runtime_error);
}

}  // namespace
}  // namespace qdgen::metrics
