#include "qdgen/archive/grid_archive.hpp"

#include <gtest/gtest.h>

#include <map>

#include "archive_test_helpers.hpp"

namespace qdgen::archive {
namespace {

using testing::make_candidate;

std::int64_t cell_of(const GridArchive& archive, std::initializer_list<double> m) {
  return archive.index_of(make_candidate(0, 0, m).measures);
}

TEST(GridArchive, UniformCellsFollowPyribsIndexingAndClipping) {
  GridArchive archive({GridDimension::uniform(0, 1, 10), GridDimension::uniform(-1, 1, 4)});
  EXPECT_EQ(archive.num_cells(), 40);
  EXPECT_EQ(cell_of(archive, {0.35, -1.0}), 3 * 4 + 0);
  EXPECT_EQ(cell_of(archive, {0.35, 0.0}), 3 * 4 + 2);  // 0 is the edge between cells 1 and 2
  EXPECT_EQ(cell_of(archive, {0.3, 0.99}), 3 * 4 + 3);  // 0.3 on an edge goes up (epsilon)
  EXPECT_EQ(cell_of(archive, {1.0, 1.0}), 9 * 4 + 3);   // the upper bound is inside
  EXPECT_EQ(cell_of(archive, {-7.0, 5.0}), 0 * 4 + 3);  // clipped to the edge cells
  EXPECT_EQ(cell_of(archive, {42.0, -5.0}), 9 * 4 + 0);
  EXPECT_EQ(archive.grid_coordinates(3 * 4 + 2), (std::vector<int>{3, 2}));
}

TEST(GridArchive, ExplicitEdgesGiveNonUniformBins) {
  // QDAIF's ticks on [0, 1].
  const std::vector<double> ticks = {0,   .005, .01, .015, .02, .03, .04,  .05, .10,  .20, .50,
                                     .80, .90,  .95, .96,  .97, .98, .985, .99, .995, 1};
  GridArchive archive({GridDimension::from_edges(ticks)});
  EXPECT_EQ(archive.num_cells(), 20);
  EXPECT_EQ(cell_of(archive, {0.0}), 0);
  EXPECT_EQ(cell_of(archive, {0.012}), 2);
  EXPECT_EQ(cell_of(archive, {0.5}), 10);  // on an edge: the cell above
  EXPECT_EQ(cell_of(archive, {0.97}), 15);
  EXPECT_EQ(cell_of(archive, {0.999}), 19);
  EXPECT_EQ(cell_of(archive, {1.0}), 19);
  EXPECT_EQ(cell_of(archive, {3.0}), 19);
  EXPECT_EQ(cell_of(archive, {-3.0}), 0);
}

TEST(GridArchive, BatchAddMatchesHandComputedPyribsOutcome) {
  GridArchive archive({GridDimension::uniform(0, 1, 2)});
  const std::vector<Candidate> first = {
      make_candidate(0, 1.0, {0.1}), make_candidate(1, 3.0, {0.2}), make_candidate(2, 3.0, {0.3}),
      make_candidate(3, -2.0, {0.9})};
  const auto r1 = archive.add(first);
  // Every candidate is judged against the empty archive: all new; value = bare objective.
  for (const auto& r : r1) EXPECT_EQ(r.status, AddStatus::kNew);
  EXPECT_DOUBLE_EQ(r1[0].value, 1.0);
  EXPECT_DOUBLE_EQ(r1[1].value, 3.0);
  EXPECT_DOUBLE_EQ(r1[3].value, -2.0);
  EXPECT_EQ(r1[3].cell, 1);
  EXPECT_EQ(archive.elite_in_cell(0)->candidate.id, 1);  // tie 3.0 vs 3.0: first wins
  EXPECT_EQ(archive.elite_in_cell(1)->candidate.id, 3);

  const std::vector<Candidate> second = {
      make_candidate(4, 3.0, {0.4}), make_candidate(5, 2.5, {0.0}), make_candidate(6, 4.0, {0.49}),
      make_candidate(7, -1.0, {2.0})};
  const auto r2 = archive.add(second);
  EXPECT_EQ(r2[0].status, AddStatus::kNotAdded);  // a tie does not improve
  EXPECT_DOUBLE_EQ(r2[0].value, 0.0);
  EXPECT_EQ(r2[1].status, AddStatus::kNotAdded);
  EXPECT_DOUBLE_EQ(r2[1].value, -0.5);
  EXPECT_EQ(r2[2].status, AddStatus::kImproveExisting);
  EXPECT_DOUBLE_EQ(r2[2].value, 1.0);
  EXPECT_EQ(r2[3].status, AddStatus::kImproveExisting);  // 2.0 clips into cell 1
  EXPECT_DOUBLE_EQ(r2[3].value, 1.0);
  EXPECT_EQ(archive.elite_in_cell(0)->candidate.id, 6);
  EXPECT_EQ(archive.elite_in_cell(1)->candidate.id, 7);
}

TEST(GridArchive, CmaMaeThresholdsUseTheBatchUpdateRule) {
  ThresholdOptions options;
  options.learning_rate = 0.5;
  options.threshold_min = 0.0;
  GridArchive archive({GridDimension::uniform(0, 1, 2)}, options);
  const auto r1 = archive.add(std::vector<Candidate>{make_candidate(0, 1.0, {0.1}),
                                                     make_candidate(1, 3.0, {0.2}),
                                                     make_candidate(2, -1.0, {0.9})});
  EXPECT_EQ(r1[0].status, AddStatus::kNew);
  EXPECT_DOUBLE_EQ(r1[0].value, 1.0);             // objective - threshold_min
  EXPECT_EQ(r1[2].status, AddStatus::kNotAdded);  // not above threshold_min
  EXPECT_DOUBLE_EQ(r1[2].value, -1.0);
  // Two exceeded threshold 0: (1-0.5)^2 * 0 + mean(1, 3) * (1 - 0.25) = 1.5.
  EXPECT_DOUBLE_EQ(archive.threshold(0), 1.5);
  EXPECT_DOUBLE_EQ(archive.threshold(1), 0.0);
  EXPECT_EQ(archive.elite_in_cell(1), nullptr);

  const auto r2 = archive.add(std::vector<Candidate>{make_candidate(3, 2.0, {0.3})});
  // CMA-MAE is not elitist: 2.0 beats the threshold 1.5, so it replaces the elite 3.0.
  EXPECT_EQ(r2[0].status, AddStatus::kImproveExisting);
  EXPECT_DOUBLE_EQ(r2[0].value, 0.5);
  EXPECT_EQ(archive.elite_in_cell(0)->candidate.id, 3);
  EXPECT_DOUBLE_EQ(archive.threshold(0), 0.5 * 1.5 + 2.0 * 0.5);
}

TEST(GridArchive, StatsCountTheQdOffset) {
  ThresholdOptions options;
  options.qd_offset = -2.0;
  GridArchive archive({GridDimension::uniform(0, 1, 4)}, options);
  archive.add(
      std::vector<Candidate>{make_candidate(0, 1.0, {0.1}), make_candidate(1, -1.0, {0.9})});
  const ArchiveStats stats = archive.stats();
  EXPECT_EQ(stats.num_elites, 2);
  EXPECT_EQ(stats.num_cells, 4);
  EXPECT_DOUBLE_EQ(stats.coverage, 0.5);
  EXPECT_DOUBLE_EQ(stats.qd_score, 3.0 + 1.0);
  EXPECT_DOUBLE_EQ(stats.norm_qd_score, 1.0);
  EXPECT_DOUBLE_EQ(stats.obj_max, 1.0);
  EXPECT_DOUBLE_EQ(stats.obj_mean, 0.0);
  archive.clear();
  EXPECT_EQ(archive.size(), 0);
  EXPECT_EQ(archive.stats().qd_score, 0.0);
}

// An independent, deliberately naive reading of pyribs' batch add, to cross-check against.
struct ReferenceCell {
  bool occupied = false;
  double threshold;
  std::int64_t elite_id = -1;
};

void reference_add(std::map<std::int64_t, ReferenceCell>& cells, const GridArchive& geometry,
                   const std::vector<Candidate>& batch, double alpha, double threshold_min,
                   std::vector<AddResult>& results) {
  const bool plain = std::isinf(threshold_min);
  std::map<std::int64_t, std::vector<std::size_t>> winners;
  const auto before = cells;
  results.assign(batch.size(), {});
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::int64_t cell = geometry.index_of(batch[i].measures);
    ReferenceCell c = before.contains(cell) ? before.at(cell) : ReferenceCell{false, threshold_min};
    results[i].cell = cell;
    if (batch[i].objective > c.threshold) {
      results[i].status = c.occupied ? AddStatus::kImproveExisting : AddStatus::kNew;
      results[i].value = batch[i].objective - (c.occupied ? c.threshold
                                               : plain    ? 0.0
                                                          : threshold_min);
      winners[cell].push_back(i);
    } else {
      results[i].value = batch[i].objective - c.threshold;
    }
  }
  for (const auto& [cell, positions] : winners) {
    ReferenceCell c = before.contains(cell) ? before.at(cell) : ReferenceCell{false, threshold_min};
    std::size_t best = positions[0];
    double sum = 0;
    for (std::size_t p : positions) {
      sum += batch[p].objective;
      if (batch[p].objective > batch[best].objective) best = p;
    }
    const double n = static_cast<double>(positions.size());
    const double ratio = std::pow(1.0 - alpha, n);
    c.threshold = plain ? batch[best].objective : ratio * c.threshold + (sum / n) * (1 - ratio);
    c.occupied = true;
    c.elite_id = batch[best].id;
    cells[cell] = c;
  }
}

TEST(GridArchive, BatchAddAgreesWithANaiveReferenceOverRandomBatches) {
  for (const double alpha : {1.0, 0.3}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      ThresholdOptions options;
      options.learning_rate = alpha;
      if (alpha < 1) options.threshold_min = -0.5;
      GridArchive archive({GridDimension::uniform(0, 1, 5), GridDimension::uniform(0, 1, 3)},
                          options);
      std::map<std::int64_t, ReferenceCell> reference;
      Rng rng(seed);
      for (int iteration = 0; iteration < 20; ++iteration) {
        const auto batch = testing::random_batch(rng, iteration * 40, 40, 2, iteration);
        const auto got = archive.add(batch);
        std::vector<AddResult> expected;
        reference_add(reference, archive, batch, alpha, options.threshold_min, expected);
        for (std::size_t i = 0; i < batch.size(); ++i) {
          ASSERT_EQ(got[i].status, expected[i].status) << "seed " << seed << " item " << i;
          ASSERT_EQ(got[i].value, expected[i].value);
          ASSERT_EQ(got[i].cell, expected[i].cell);
        }
      }
      ASSERT_EQ(archive.size(), static_cast<std::int64_t>(reference.size()));
      for (const auto& [cell, c] : reference) {
        ASSERT_EQ(archive.elite_in_cell(cell)->candidate.id, c.elite_id);
        ASSERT_EQ(archive.threshold(cell), c.threshold);
      }
      const auto elites = archive.elites();
      for (std::size_t i = 1; i < elites.size(); ++i)
        EXPECT_LT(elites[i - 1]->cell, elites[i]->cell);
    }
  }
}

TEST(GridArchive, BadInputIsRejectedWithAReason) {
  GridArchive archive({GridDimension::uniform(0, 1, 4)});
  try {
    archive.add(std::vector<Candidate>{make_candidate(9, 1.0, {0.1, 0.2})});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected 1 measures, got 2"), std::string::npos);
  }
  auto nan_objective = make_candidate(9, std::nan(""), {0.1});
  EXPECT_THROW(archive.add(std::vector<Candidate>{nan_objective}), std::invalid_argument);
  EXPECT_THROW(GridArchive({GridDimension::from_edges({0, 0.5, 0.5})}), std::invalid_argument);
  ThresholdOptions mae;
  mae.learning_rate = 0.1;  // without a finite threshold_min
  EXPECT_THROW(GridArchive({GridDimension::uniform(0, 1, 4)}, mae), std::invalid_argument);
  EXPECT_EQ(archive.size(), 0);
}

}  // namespace
}  // namespace qdgen::archive
