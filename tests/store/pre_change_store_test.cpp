// A run store written before store/ existed (tests/store/data/README.md): today's code
// exports it byte for byte as that code did, reads it, and resumes it exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "qdgen/store/run_export.hpp"
#include "qdgen/store/run_reader.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::testing::TempDir;
using testing::SyntheticRun;

const std::filesystem::path kData = std::filesystem::path(QDGEN_SOURCE_DIR) / "tests/store/data";

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A copy in a scratch folder: even a read-only SQLite connection makes -shm beside a WAL file.
class PreChangeStore : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::copy_file(kData / "pre_change_run.sqlite", run_file()); }
  std::filesystem::path run_file() const { return dir / "run.sqlite"; }
  TempDir dir;
};

struct ExportCase {
  const char* table_name;
  ExportTable table;
  ExportFormat format;
  const char* extension;
};

TEST_F(PreChangeStore, ExportsEveryTableInEveryFormatByteForByteAsBefore) {
  const std::vector<ExportCase> cases = {
      {"elites", ExportTable::kElites, ExportFormat::kCsv, "csv"},
      {"elites", ExportTable::kElites, ExportFormat::kJsonl, "jsonl"},
      {"candidates", ExportTable::kCandidates, ExportFormat::kCsv, "csv"},
      {"candidates", ExportTable::kCandidates, ExportFormat::kJsonl, "jsonl"},
      {"iterations", ExportTable::kIterations, ExportFormat::kCsv, "csv"},
      {"iterations", ExportTable::kIterations, ExportFormat::kJsonl, "jsonl"}};
  for (const ExportCase& c : cases) {
    std::ostringstream out;
    export_run(run_file(), c.table, c.format, out);
    const std::string expected =
        bytes_of(kData / (std::string("pre_change_") + c.table_name + "." + c.extension));
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(out.str(), expected) << c.table_name << " as " << c.extension;
  }
}

TEST_F(PreChangeStore, ReadsBackTheEdgeCasesItWasWrittenWith) {
  const RunReader reader(run_file());
  const RunInfo info = reader.info();
  EXPECT_EQ(info.config.at("name"), "pre-change fixture");
  EXPECT_EQ(info.status, RunStatus::kRunning);
  EXPECT_EQ(info.last_iteration, 2);
  EXPECT_EQ(reader.candidate_count(), 3 * SyntheticRun::kBatch);

  const auto first = reader.candidate(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(std::get<std::string>(first->candidate.solution),
            "he said \"hi\",\nthen left \xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80");
  const auto with_parents = reader.candidate(SyntheticRun::kBatch + 6);
  ASSERT_TRUE(with_parents);
  EXPECT_EQ(with_parents->candidate.parents, (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(with_parents->candidate.op, "iso_line");
  EXPECT_TRUE(std::isinf(reader.candidate(SyntheticRun::kBatch + 4)->outcome.value));
  EXPECT_EQ(reader.candidate(SyntheticRun::kBatch + 5)->result_outcome->value,
            -std::numeric_limits<double>::infinity());
  // Candidate 50: the NaN measure and the empty numeric solution.
  const auto odd = reader.candidate(50);
  ASSERT_TRUE(odd);
  EXPECT_TRUE(std::isnan(odd->candidate.measures[1]));
  EXPECT_EQ(std::get<Eigen::VectorXd>(odd->candidate.solution).size(), 0);
  EXPECT_EQ(reader.lineage(SyntheticRun::kBatch + 6).size(), 3u);  // 30 <- 0, 3
  EXPECT_EQ(reader.lineage(SyntheticRun::kBatch + 7).size(), 2u);  // 31 <- 6
}

TEST_F(PreChangeStore, ResumesAndContinuesExactlyAsTheRunThatWroteIt) {
  // The fixture's edits came after the archives were told, so an unedited run with the same
  // seed has the same archives, RNG and ids after three iterations.
  SyntheticRun live(42);
  for (int i = 0; i < 3; ++i) live.step();
  SyntheticRun resumed(0);
  {
    auto store = RunStore::open_for_resume(run_file());
    resumed.resume_from(*store);
    std::string why;
    EXPECT_TRUE(testing::same_archive(resumed.soft, live.soft, why)) << why;
    EXPECT_TRUE(testing::same_archive(resumed.result, live.result, why)) << why;
    for (int i = 0; i < 2; ++i) {
      const IterationRecord next = resumed.step();
      EXPECT_EQ(next.rng_state, live.step().rng_state);
      store->commit(next);
    }
    store->set_status(RunStatus::kFinished);
  }
  const RunReader reader(run_file());
  EXPECT_EQ(reader.info().last_iteration, 4);
  EXPECT_EQ(reader.info().status, RunStatus::kFinished);
  EXPECT_EQ(reader.candidate_count(), 5 * SyntheticRun::kBatch);
  EXPECT_EQ(reader.elites().size(), static_cast<std::size_t>(live.result.size()));
}

}  // namespace
}  // namespace qdgen::store
