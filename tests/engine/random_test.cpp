#include "qdgen/engine/random.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <vector>

#include "qdgen/engine/thread_pool.hpp"

using namespace qdgen::engine;

TEST(StandardNormal, HasMeanZeroAndVarianceOneOverSeveralSeeds) {
  for (std::uint64_t seed : {1u, 42u, 777u}) {
    Rng rng(seed);
    std::vector<double> x(200000);
    fill_standard_normal(rng, x);
    double mean = 0, m2 = 0, m4 = 0;
    for (double v : x) mean += v;
    mean /= double(x.size());
    for (double v : x) {
      m2 += (v - mean) * (v - mean);
      m4 += std::pow(v - mean, 4);
    }
    m2 /= double(x.size());
    m4 /= double(x.size());
    EXPECT_NEAR(mean, 0.0, 0.01);
    EXPECT_NEAR(m2, 1.0, 0.02);
    EXPECT_NEAR(m4 / (m2 * m2), 3.0, 0.1);  // kurtosis of a normal
  }
}

TEST(StandardNormal, SameSeedSameDrawsAndKnownFirstWord) {
  Rng a(5), b(5);
  std::vector<double> x(7), y(7);
  fill_standard_normal(a, x);
  fill_standard_normal(b, y);
  EXPECT_EQ(x, y);
  // mt19937_64 is fully specified by the standard: its 10000th output from the default
  // seed is 9981545732273789042, so a seed means the same stream with any library.
  Rng reference;
  reference.discard(9999);
  EXPECT_EQ(reference(), 9981545732273789042ULL);
}

TEST(ThreadPool, EveryIndexRunsOnceWhateverTheThreadCount) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    std::vector<int> hits(10007, 0);
    pool.parallel_for(hits.size(), [&](std::size_t i) { hits[i] += 1; });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

TEST(ThreadPool, RethrowsTheFirstErrorAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100,
                                 [](std::size_t i) {
                                   if (i == 37) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  std::atomic<int> count{0};
  pool.parallel_for(50, [&](std::size_t) { ++count; });
  EXPECT_EQ(count.load(), 50);
}
