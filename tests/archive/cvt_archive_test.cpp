#include "qdgen/archive/cvt_archive.hpp"

#include <gtest/gtest.h>

#include "archive_test_helpers.hpp"

namespace qdgen::archive {
namespace {

Eigen::MatrixXd random_points(Rng& rng, int n, int dim) {
  Eigen::MatrixXd points(n, dim);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) points(i, d) = uniform01(rng);
  return points;
}

TEST(CvtArchive, TreeLookupEqualsBruteForceOnRandomQueries) {
  for (const int dim : {1, 2, 5}) {
    for (std::uint64_t seed = 1; seed <= 2; ++seed) {
      Rng rng(seed * 100 + dim);
      const CvtArchive archive(random_points(rng, 1000, dim));
      for (int q = 0; q < 600; ++q) {
        Eigen::VectorXd query(dim);
        for (int d = 0; d < dim; ++d) query[d] = -0.1 + 1.2 * uniform01(rng);
        ASSERT_EQ(archive.index_of(query), archive.nearest_centroid_brute_force(query))
            << "dim " << dim << " seed " << seed;
      }
    }
  }
}

TEST(CvtArchive, TiesGoToTheLowestIndexLikeBruteForce) {
  // A lattice with duplicated centroids: midpoints are equally near several of them.
  Eigen::MatrixXd lattice(50, 2);
  for (int i = 0; i < 25; ++i) {
    lattice.row(i) << i % 5, i / 5;
    lattice.row(49 - i) << i % 5, i / 5;  // the same points again, at higher indices
  }
  const CvtArchive archive(lattice);
  for (double x = -0.5; x <= 4.5; x += 0.5)
    for (double y = -0.5; y <= 4.5; y += 0.5) {
      const Eigen::Vector2d query(x, y);
      ASSERT_EQ(archive.index_of(query), archive.nearest_centroid_brute_force(query));
      ASSERT_LT(archive.index_of(query), 25);
    }
}

TEST(CvtArchive, CentroidsAreDeterministicForASeedAndInsideTheBox) {
  CentroidOptions options;
  options.cells = 50;
  options.ranges = {{-1, 1}, {0, 2}};
  options.seed = 42;
  const Eigen::MatrixXd a = cvt_centroids(options);
  const Eigen::MatrixXd b = cvt_centroids(options);
  EXPECT_EQ(a, b);
  options.seed = 43;
  EXPECT_NE(a, cvt_centroids(options));
  EXPECT_GE(a.col(0).minCoeff(), -1);
  EXPECT_LE(a.col(0).maxCoeff(), 1);
  EXPECT_GE(a.col(1).minCoeff(), 0);
  EXPECT_LE(a.col(1).maxCoeff(), 2);
  // k-means spreads centroids: every one owns a sizeable region, so none sits within a
  // tiny distance of another (random points would, often).
  const CvtArchive archive(a);
  Rng rng(5);
  std::vector<int> hits(50, 0);
  for (int i = 0; i < 20000; ++i) {
    const Eigen::Vector2d q(-1 + 2 * uniform01(rng), 2 * uniform01(rng));
    hits[static_cast<std::size_t>(archive.index_of(q))]++;
  }
  for (int h : hits) EXPECT_GT(h, 20000 / 50 / 4);
}

TEST(CvtArchive, AddsLikeAGridWithCentroidCells) {
  Eigen::MatrixXd centroids(2, 1);
  centroids << 0.0, 1.0;
  CvtArchive archive(centroids);
  const auto results = archive.add(std::vector<Candidate>{testing::make_candidate(0, 1.0, {0.2}),
                                                          testing::make_candidate(1, 2.0, {0.4}),
                                                          testing::make_candidate(2, 5.0, {0.6})});
  EXPECT_EQ(results[0].cell, 0);
  EXPECT_EQ(results[2].cell, 1);
  EXPECT_EQ(archive.elite_in_cell(0)->candidate.id, 1);
  EXPECT_EQ(archive.size(), 2);
  EXPECT_DOUBLE_EQ(archive.elite_distance(*archive.elite_in_cell(0), *archive.elite_in_cell(1)),
                   1.0);
}

}  // namespace
}  // namespace qdgen::archive
