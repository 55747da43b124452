#include <gtest/gtest.h>

#include <map>
#include <set>

#include "archive_test_helpers.hpp"
#include "qdgen/archive/grid_archive.hpp"

namespace qdgen::archive {
namespace {

using testing::make_candidate;

GridArchive line_of_elites(int cells) {
  GridArchive archive({GridDimension::uniform(0, cells, cells)});
  std::vector<Candidate> batch;
  for (int i = 0; i < cells; ++i) batch.push_back(make_candidate(i, 1.0, {i + 0.5}));
  archive.add(batch);
  return archive;
}

TEST(Sampling, UniformIsDeterministicForASeedAndCoversEveryElite) {
  const GridArchive archive = line_of_elites(5);
  Rng a(7), b(7);
  const auto first = archive.sample_uniform(200, a);
  const auto second = archive.sample_uniform(200, b);
  ASSERT_EQ(first, second);
  std::set<std::int64_t> seen;
  for (const Elite* e : first) seen.insert(e->cell);
  EXPECT_EQ(seen.size(), 5u);
  GridArchive empty({GridDimension::uniform(0, 1, 3)});
  EXPECT_TRUE(empty.sample_uniform(4, a).empty());
}

TEST(Sampling, NearPicksDistinctOthersWithProbabilityOneOverOnePlusDCubed) {
  const GridArchive archive = line_of_elites(3);
  const Elite& anchor = *archive.elite_in_cell(0);
  // Cells 1 and 2 are 1 and 2 cells away: weights 1/2 and 1/9.
  const double p_first_is_cell_1 = 0.5 / (0.5 + 1.0 / 9.0);
  Rng rng(11);
  int cell_1_first = 0;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const auto picked = archive.sample_near(anchor, 2, rng);
    ASSERT_EQ(picked.size(), 2u);
    ASSERT_NE(picked[0]->cell, picked[1]->cell);
    ASSERT_NE(picked[0]->cell, 0);
    ASSERT_NE(picked[1]->cell, 0);
    cell_1_first += picked[0]->cell == 1;
  }
  EXPECT_NEAR(cell_1_first / double(draws), p_first_is_cell_1, 0.015);
  EXPECT_EQ(archive.sample_near(anchor, 10, rng).size(), 2u);  // only two others exist
}

TEST(Sampling, NearFavoursNeighboursOnA2DGrid) {
  GridArchive archive({GridDimension::uniform(0, 10, 10), GridDimension::uniform(0, 10, 10)});
  std::vector<Candidate> batch;
  for (int x = 0; x < 10; ++x)
    for (int y = 0; y < 10; ++y)
      batch.push_back(make_candidate(x * 10 + y, 1.0, {x + 0.5, y + 0.5}));
  archive.add(batch);
  const Elite& anchor = *archive.elite_in_cell(5 * 10 + 5);
  Rng rng(3);
  std::map<int, int> by_distance;
  for (int i = 0; i < 5000; ++i)
    for (const Elite* e : archive.sample_near(anchor, 1, rng))
      by_distance[static_cast<int>(std::round(archive.elite_distance(anchor, *e)))]++;
  EXPECT_GT(by_distance[1], by_distance[3]);
  EXPECT_GT(by_distance[1], 1000);
}

}  // namespace
}  // namespace qdgen::archive
