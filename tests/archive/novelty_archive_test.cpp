#include "qdgen/archive/novelty_archive.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace qdgen::archive
