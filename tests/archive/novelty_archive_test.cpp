#include "qdgen/archive/novelty_archive.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "archive_test_helpers.hpp"

namespace qdgen::archive {
namespace {

using testing::make_candidate;

TEST(NoveltyArchive, AdmitsAboveTheThresholdJudgedAgainstTheArchiveBeforeTheBatch) {
  NoveltyOptions options;
  options.k = 2;
  options.threshold = 0.5;
  NoveltyArchive archive(1, options);
  const auto r1 =
      archive.add(std::vector<Candidate>{make_candidate(0, 1, {0.0}), make_candidate(1, 1, {0.1})});
  EXPECT_EQ(r1[0].status, AddStatus::kNew);  // an empty archive admits everything
  EXPECT_EQ(r1[1].status, AddStatus::kNew);
  EXPECT_EQ(r1[1].cell, 1);
  const auto r2 =
      archive.add(std::vector<Candidate>{make_candidate(2, 1, {0.3}), make_candidate(3, 1, {2.0})});
  EXPECT_EQ(r2[0].status, AddStatus::kNotAdded);  // mean(0.3, 0.2) = 0.25
  EXPECT_DOUBLE_EQ(r2[0].value, 0.25 - 0.5);
  EXPECT_EQ(r2[1].status, AddStatus::kNew);  // mean(2.0, 1.9) = 1.95
  EXPECT_DOUBLE_EQ(r2[1].value, 1.95 - 0.5);
  EXPECT_EQ(r2[1].cell, 2);
  EXPECT_EQ(archive.size(), 3);
  EXPECT_DOUBLE_EQ(archive.novelty(Eigen::VectorXd::Constant(1, 0.05)), 0.05);
}

TEST(NoveltyArchive, LocalCompetitionReplacesTheNearestMemberItBeats) {
  NoveltyOptions options;
  options.k = 1;
  options.threshold = 0.5;
  options.local_competition = true;
  NoveltyArchive archive(1, options);
  archive.add(std::vector<Candidate>{make_candidate(0, 1.0, {0.0})});
  archive.add(std::vector<Candidate>{make_candidate(1, 1.0, {1.0})});
  const auto r = archive.add(std::vector<Candidate>{
      make_candidate(2, 0.5, {0.02}),   // loses to member 0
      make_candidate(3, 2.0, {0.03}),   // beats member 0
      make_candidate(4, 3.0, {-0.01}),  // beats member 0 by more: this one wins the slot
      make_candidate(5, 1.5, {0.9})});  // beats member 1
  EXPECT_EQ(r[0].status, AddStatus::kNotAdded);
  EXPECT_DOUBLE_EQ(r[0].value, -0.5);
  EXPECT_EQ(r[1].status, AddStatus::kImproveExisting);
  EXPECT_EQ(r[1].cell, 0);
  EXPECT_DOUBLE_EQ(r[1].value, 1.0);
  EXPECT_EQ(r[2].status, AddStatus::kImproveExisting);
  EXPECT_EQ(r[3].cell, 1);
  EXPECT_EQ(archive.elite_in_cell(0)->candidate.id, 4);
  EXPECT_EQ(archive.elite_in_cell(1)->candidate.id, 5);
  EXPECT_EQ(archive.size(), 2);
}

TEST(NoveltyArchive, MaxSizeEvictsTheOldestAndReportsThem) {
  NoveltyOptions options;
  options.k = 1;
  options.threshold = 0.5;
  options.max_size = 2;
  NoveltyArchive archive(1, options);
  archive.add(std::vector<Candidate>{make_candidate(0, 1, {0.0}), make_candidate(1, 1, {5.0})});
  EXPECT_TRUE(archive.removed_candidate_ids().empty());
  archive.add(std::vector<Candidate>{make_candidate(2, 1, {10.0})});
  EXPECT_EQ(archive.removed_candidate_ids(), std::vector<std::int64_t>{0});
  EXPECT_EQ(archive.elites().front()->candidate.id, 1);
  EXPECT_EQ(archive.elite_in_cell(0), nullptr);
  EXPECT_EQ(archive.elite_in_cell(2)->candidate.id, 2);
}

TEST(NoveltyArchive, EmbeddingSpaceUsesEmbeddingsAndNamesAMissingOne) {
  NoveltyOptions options;
  options.k = 1;
  options.threshold = 0.5;
  options.space = NoveltySpace::kEmbedding;
  NoveltyArchive archive(1, options);
  Candidate a = make_candidate(0, 1, {0.0});
  a.embedding = Eigen::VectorXf::Zero(3);
  Candidate b = make_candidate(1, 1, {0.0});  // same measures, distant embedding
  b.embedding = Eigen::VectorXf::Ones(3);
  archive.add(std::vector<Candidate>{a});
  EXPECT_EQ(archive.add(std::vector<Candidate>{b})[0].status, AddStatus::kNew);
  Candidate c = make_candidate(7, 1, {0.0});
  try {
    archive.add(std::vector<Candidate>{c});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("candidate 7 has no embedding"), std::string::npos);
  }
}

// Measures on a coarse lattice, so that many candidates share a point or lie at equal
// distances: the k-d tree must break ties as brute force does (lower slot first).
std::vector<Candidate> lattice_batch(Rng& rng, std::int64_t first_id, int size, int dim,
                                     double spacing) {
  std::vector<Candidate> batch;
  for (int i = 0; i < size; ++i) {
    Candidate c;
    c.id = first_id + i;
    c.objective = std::round(uniform01(rng) * 16.0) / 16.0;
    c.measures = Eigen::VectorXd(dim);
    for (int d = 0; d < dim; ++d) c.measures[d] = spacing * std::floor(uniform01(rng) * 12.0);
    c.solution = Eigen::VectorXd::Constant(2, static_cast<double>(c.id));
    batch.push_back(std::move(c));
  }
  return batch;
}

// Runs the same batches through a tree-searched and a brute-force archive and expects the
// same results bit for bit, batch after batch (tail scans, rebuilds, moves, evictions).
void expect_tree_equals_brute_force(NoveltyOptions options, int dim, int batches, int batch_size,
                                    double spacing, std::uint64_t seed) {
  options.search = NeighborSearch::kTree;
  NoveltyArchive tree(dim, options);
  options.search = NeighborSearch::kBruteForce;
  NoveltyArchive brute(dim, options);
  Rng rng(seed);
  std::int64_t next_id = 0;
  std::size_t admitted = 0, replaced = 0;
  for (int b = 0; b < batches; ++b) {
    // Batch sizes vary so that the rebuild rule sees both small and large batches.
    const int size = 1 + static_cast<int>(uniform01(rng) * batch_size);
    const auto batch = lattice_batch(rng, next_id, size, dim, spacing);
    next_id += size;
    const auto want = brute.add(batch);
    const auto got = tree.add(batch);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].status, want[i].status) << "batch " << b << " candidate " << i;
      ASSERT_EQ(got[i].cell, want[i].cell) << "batch " << b << " candidate " << i;
      // Bitwise, infinities (first admissions) included.
      ASSERT_EQ(std::memcmp(&got[i].value, &want[i].value, sizeof(double)), 0)
          << "batch " << b << " candidate " << i << ": " << got[i].value << " vs " << want[i].value;
      admitted += got[i].status == AddStatus::kNew;
      replaced += got[i].status == AddStatus::kImproveExisting;
    }
    ASSERT_EQ(tree.removed_candidate_ids(), brute.removed_candidate_ids());
    ASSERT_EQ(tree.size(), brute.size());
  }
  const auto a = tree.elites(), e = brute.elites();
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]->cell, e[i]->cell);
    EXPECT_EQ(a[i]->candidate.id, e[i]->candidate.id);
  }
  // The workload must really exercise admissions and (with local competition) moves.
  EXPECT_GT(admitted, 50u);
  if (options.local_competition) {
    EXPECT_GT(replaced, 50u);
  }
  Eigen::VectorXd probe = Eigen::VectorXd::Constant(dim, 2.5 * spacing);
  const double nt = tree.novelty(probe), nb = brute.novelty(probe);
  EXPECT_EQ(std::memcmp(&nt, &nb, sizeof(double)), 0);
}

TEST(NoveltyArchive, TreeSearchEqualsBruteForceWithTiesMovesAndEvictions) {
  NoveltyOptions options;
  options.k = 5;
  options.threshold = 1.5;
  options.local_competition = true;
  expect_tree_equals_brute_force(options, 2, 120, 60, 1.0, 11);
  options.k = 1;  // the nearest member decides local competition: ties pick the older slot
  options.threshold = 0.9;
  expect_tree_equals_brute_force(options, 2, 120, 60, 1.0, 14);
  options.k = 15;
  options.threshold = 0.3;
  options.max_size = 150;  // evicts the oldest every batch once full
  expect_tree_equals_brute_force(options, 2, 120, 60, 0.25, 12);
  options.local_competition = false;
  options.max_size = 0;
  options.k = 3;
  options.threshold = 1.0;
  expect_tree_equals_brute_force(options, 3, 80, 80, 0.5, 13);
}

// Embedding-space batches: Gaussian embeddings around `offset` (a large offset makes the
// matrix-product distances lose digits to cancellation), a quarter of them copies of earlier
// ones so that distances tie. offset < 0: 1024 plus 0..3 float steps (2^-13) in every
// coordinate but the last, which is below 2^-10: squared distances tie often on the lattice
// part and then differ by amounts near the matrix product's rounding (~4e-9).
std::vector<Candidate> embedding_batch(Rng& rng, std::int64_t first_id, int size, int dim,
                                       double offset, std::vector<Eigen::VectorXf>& seen) {
  std::vector<Candidate> batch;
  for (int i = 0; i < size; ++i) {
    Candidate c = make_candidate(first_id + i, std::round(uniform01(rng) * 8.0) / 8.0, {0.0});
    Eigen::VectorXf e(dim);
    if (!seen.empty() && uniform01(rng) < 0.25) {
      e = seen[static_cast<std::size_t>(uniform01(rng) * static_cast<double>(seen.size()))];
    } else {
      for (int d = 0; d < dim; ++d)
        e[d] = offset < 0
                   ? static_cast<float>(d + 1 < dim
                                            ? 1024.0 + std::floor(uniform01(rng) * 4.0) * 0x1p-13
                                            : uniform01(rng) * 0x1p-10)
                   : static_cast<float>(offset + std::sqrt(-2.0 * std::log(1.0 - uniform01(rng))) *
                                                     std::cos(6.283185307179586 * uniform01(rng)));
      seen.push_back(e);
    }
    c.embedding = e;
    batch.push_back(std::move(c));
  }
  return batch;
}

TEST(NoveltyArchive, BlockedSearchInEmbeddingSpaceEqualsBruteForce) {
  for (const double offset : {0.0, 1000.0, -1.0}) {
    for (const bool local : {false, true}) {
      NoveltyOptions options;
      options.k = local ? 1 : 6;
      options.threshold = offset < 0 ? (local ? 6.5e-4 : 7.5e-4) : (local ? 4.5 : 5.5);
      options.local_competition = local;
      options.space = NoveltySpace::kEmbedding;
      options.max_size = local ? 0 : 300;
      options.search = NeighborSearch::kAuto;  // 40 dimensions: the blocked search
      NoveltyArchive fast(1, options);
      options.search = NeighborSearch::kBruteForce;
      NoveltyArchive brute(1, options);
      Rng rng(21);
      std::vector<Eigen::VectorXf> seen;
      std::int64_t next_id = 0;
      std::size_t admitted = 0, replaced = 0;
      for (int b = 0; b < 24; ++b) {
        const int size = 1 + static_cast<int>(uniform01(rng) * 150);  // beyond one block of 128
        const auto batch = embedding_batch(rng, next_id, size, 40, offset, seen);
        next_id += size;
        const auto want = brute.add(batch);
        const auto got = fast.add(batch);
        for (std::size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].status, want[i].status) << "offset " << offset << " batch " << b;
          ASSERT_EQ(got[i].cell, want[i].cell) << "offset " << offset << " batch " << b;
          ASSERT_EQ(std::memcmp(&got[i].value, &want[i].value, sizeof(double)), 0)
              << "offset " << offset << " batch " << b << ": " << got[i].value << " vs "
              << want[i].value;
          admitted += got[i].status == AddStatus::kNew;
          replaced += got[i].status == AddStatus::kImproveExisting;
        }
      }
      EXPECT_GT(admitted, 100u) << "offset " << offset;
      if (local) {
        EXPECT_GT(replaced, 50u) << "offset " << offset;
      }
    }
  }
}

TEST(NoveltyArchive, AutomaticSearchUsesTheTreeInLowDimensionsOnly) {
  // Observable only through speed; here: both settings give the brute-force answer for a
  // point set where every distance ties.
  for (const int dim : {2, NoveltyArchive::kTreeMaxDim + 4}) {
    NoveltyOptions options;
    options.k = 4;
    options.threshold = 0.0;
    NoveltyArchive archive(dim, options);
    std::vector<Candidate> corners;
    for (int i = 0; i < 8; ++i) {
      Candidate c = make_candidate(i, 1.0, {});
      c.measures = Eigen::VectorXd::Zero(dim);
      c.measures[i % dim] = (i / dim) % 2 == 0 ? 1.0 : -1.0;
      corners.push_back(c);
    }
    archive.add(corners);
    // The origin is at distance 1 from every distinct corner.
    EXPECT_DOUBLE_EQ(archive.novelty(Eigen::VectorXd::Zero(dim)), 1.0);
  }
}

}  // namespace
}  // namespace qdgen::archive
