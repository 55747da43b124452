// RunReader: iterations, elites, candidates (by id, by iteration, streamed), lineage, and
// reading while other connections write and close the file.
#include "qdgen/store/run_reader.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "qdgen/store/run_export.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::AddResult;
using archive::AddStatus;
using archive::Candidate;
using archive::testing::TempDir;
using testing::SyntheticRun;

void raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::string error_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const RunStoreError& e) {
    return e.what();
  }
  return "(no error)";
}

bool entered(const IterationRecord& record, std::size_t i) {
  return record.add_results[i].status != AddStatus::kNotAdded ||
         (!record.result_add_results.empty() &&
          record.result_add_results[i].status != AddStatus::kNotAdded);
}

// A run of `iterations` SyntheticRun iterations, committed; the records are kept to compare.
class StoredRun : public ::testing::Test {
 protected:
  void write(int iterations, KeepCandidates keep = KeepCandidates::kAll) {
    auto store = RunStore::create(path(), {{"name", "reader"}}, 5, RunStoreOptions{keep});
    for (int i = 0; i < iterations; ++i) {
      IterationRecord record = run.step();
      record.timings = {{"evaluate", 0.125 * i}};
      store->commit(record);
      records.push_back(std::move(record));
    }
  }
  std::filesystem::path path() const { return dir / "run.sqlite"; }
  TempDir dir;
  SyntheticRun run{5};
  std::vector<IterationRecord> records;
};

TEST_F(StoredRun, IterationsComeBackInOrderWithCountsMetricsAndTimings) {
  write(4);
  const std::vector<IterationRow> rows = RunReader(path()).iterations();
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const IterationRecord& record = records[k];
    std::int64_t added = 0, fresh = 0;
    for (std::size_t i = 0; i < record.candidates.size(); ++i) {
      added += entered(record, i);
      fresh += record.add_results[i].status == AddStatus::kNew ||
               record.result_add_results[i].status == AddStatus::kNew;
    }
    EXPECT_EQ(rows[k].iteration, record.iteration);
    EXPECT_EQ(rows[k].num_candidates, SyntheticRun::kBatch);
    EXPECT_EQ(rows[k].num_added, added);
    EXPECT_EQ(rows[k].num_new, fresh);
    EXPECT_EQ(rows[k].metrics, record.metrics);
    EXPECT_EQ(rows[k].timings, record.timings);
    EXPECT_EQ(rows[k].committed.size(), 20u);  // 2026-01-01T00:00:00Z
  }
}

TEST_F(StoredRun, ElitesAreTheResultArchiveByCellJoinedWithTheirCandidates) {
  write(5);
  const std::vector<StoredElite> elites = RunReader(path()).elites();
  ASSERT_EQ(elites.size(), static_cast<std::size_t>(run.result.size()));
  for (std::size_t k = 0; k < elites.size(); ++k) {
    if (k > 0) {
      EXPECT_LT(elites[k - 1].cell, elites[k].cell);
    }
    const archive::Elite* want = run.result.elite_in_cell(elites[k].cell);
    ASSERT_NE(want, nullptr) << "cell " << elites[k].cell;
    const Candidate& got = elites[k].candidate.candidate;
    EXPECT_EQ(got.id, want->candidate.id);
    EXPECT_EQ(got.objective, want->candidate.objective);
    EXPECT_EQ(got.measures, want->candidate.measures);
    EXPECT_EQ(elites[k].iteration, got.iteration);
    EXPECT_EQ(elites[k].candidate.result_outcome->cell, elites[k].cell);
  }
}

TEST_F(StoredRun, ACandidateByIdKeepsEveryFieldAndItsOutcomes) {
  write(2);
  const RunReader reader(path());
  for (const IterationRecord& record : records) {
    for (std::size_t i = 0; i < record.candidates.size(); ++i) {
      const Candidate& want = record.candidates[i];
      const std::optional<StoredCandidate> got = reader.candidate(want.id);
      ASSERT_TRUE(got) << "candidate " << want.id;
      EXPECT_EQ(got->candidate.id, want.id);
      EXPECT_EQ(got->candidate.iteration, record.iteration);
      EXPECT_EQ(got->batch_index, static_cast<std::int64_t>(i));
      EXPECT_EQ(got->candidate.solution, want.solution);
      EXPECT_EQ(got->candidate.objective, want.objective);
      EXPECT_EQ(got->candidate.measures, want.measures);
      EXPECT_EQ(*got->candidate.embedding, *want.embedding);
      EXPECT_EQ(got->candidate.parents, want.parents);
      EXPECT_EQ(got->candidate.op, want.op);
      EXPECT_EQ(got->candidate.emitter, want.emitter);
      EXPECT_EQ(got->candidate.metadata, want.metadata);
      EXPECT_EQ(got->outcome.status, record.add_results[i].status);
      EXPECT_EQ(got->outcome.value, record.add_results[i].value);
      EXPECT_EQ(got->outcome.cell, record.add_results[i].cell);
      ASSERT_TRUE(got->result_outcome);
      EXPECT_EQ(got->result_outcome->status, record.result_add_results[i].status);
      EXPECT_EQ(got->result_outcome->value, record.result_add_results[i].value);
    }
  }
  EXPECT_FALSE(reader.candidate(2 * SyntheticRun::kBatch));
  EXPECT_FALSE(reader.candidate(-1));
}

TEST_F(StoredRun, CandidatesOfAnIterationComeInBatchOrder) {
  write(3);
  const std::vector<StoredCandidate> batch = RunReader(path()).candidates_of_iteration(1);
  ASSERT_EQ(batch.size(), static_cast<std::size_t>(SyntheticRun::kBatch));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].batch_index, static_cast<std::int64_t>(i));
    EXPECT_EQ(batch[i].candidate.id, records[1].candidates[i].id);
  }
  EXPECT_TRUE(RunReader(path()).candidates_of_iteration(7).empty());
}

TEST_F(StoredRun, TheVisitorSeesEveryStoredCandidateOnceInIdOrder) {
  write(5);
  const RunReader reader(path());
  std::vector<std::int64_t> ids;
  reader.for_each_candidate([&](const StoredCandidate& c) { ids.push_back(c.candidate.id); });
  ASSERT_EQ(ids.size(), 5u * SyntheticRun::kBatch);
  for (std::size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(ids[k], static_cast<std::int64_t>(k));
  EXPECT_EQ(reader.candidate_count(), static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(reader.max_candidate_measures(), 2u);
  EXPECT_EQ(reader.max_elite_measures(), 2u);
}

TEST_F(StoredRun, WithKeepAddedTheVisitorSeesOnlyWhatEnteredAnArchive) {
  write(5, KeepCandidates::kAdded);
  std::vector<std::int64_t> expected;
  for (const IterationRecord& record : records)
    for (std::size_t i = 0; i < record.candidates.size(); ++i)
      if (entered(record, i)) expected.push_back(record.candidates[i].id);
  std::vector<std::int64_t> ids;
  RunReader(path()).for_each_candidate(
      [&](const StoredCandidate& c) { ids.push_back(c.candidate.id); });
  EXPECT_EQ(ids, expected);
  EXPECT_LT(ids.size(), 5u * SyntheticRun::kBatch);
}

TEST(RunReader, AnEmptyRunHasNoRowsAndNoMeasures) {
  TempDir dir;
  RunStore::create(dir / "run.sqlite", {}, 1).reset();
  const RunReader reader(dir / "run.sqlite");
  EXPECT_FALSE(reader.info().last_iteration);
  EXPECT_TRUE(reader.iterations().empty());
  EXPECT_TRUE(reader.elites().empty());
  EXPECT_EQ(reader.candidate_count(), 0);
  EXPECT_EQ(reader.max_candidate_measures(), 0u);
  EXPECT_EQ(reader.max_elite_measures(), 0u);
}

// Iteration 0: roots 0, 1, 2. Iteration 1: 3 <- {0, 1} (lmx), 4 <- {1} (gaussian).
// Iteration 2: 5 <- {3, 4} (lmx; 1 is reached twice), 6 <- {99}, a parent never stored.
void write_family(const std::filesystem::path& path) {
  struct Made {
    std::int64_t id;
    std::vector<std::int64_t> parents;
    const char* op;
  };
  const std::vector<std::vector<Made>> iterations = {
      {{0, {}, "random"}, {1, {}, "random"}, {2, {}, "random"}},
      {{3, {0, 1}, "lmx"}, {4, {1}, "gaussian"}},
      {{5, {3, 4}, "lmx"}, {6, {99}, "gaussian"}}};
  auto store = RunStore::create(path, {}, 1);
  for (std::size_t it = 0; it < iterations.size(); ++it) {
    IterationRecord record;
    record.iteration = static_cast<std::int64_t>(it);
    for (const Made& made : iterations[it]) {
      Candidate c = archive::testing::make_candidate(made.id, 1.0, {0.5, 0.5}, record.iteration);
      c.parents = made.parents;
      c.op = made.op;
      record.candidates.push_back(c);
      record.add_results.push_back(AddResult{AddStatus::kNew, 1.0, made.id});
    }
    store->commit(record);
  }
}

TEST(RunReader, LineageWalksParentsUpToTheRootsBreadthFirst) {
  TempDir dir;
  write_family(dir / "run.sqlite");
  const RunReader reader(dir / "run.sqlite");
  struct Step {
    std::int64_t id;
    int generation;
    std::int64_t iteration;
    std::string op;
  };
  const std::vector<Step> expected = {{5, 0, 2, "lmx"},
                                      {3, 1, 1, "lmx"},
                                      {4, 1, 1, "gaussian"},
                                      {0, 2, 0, "random"},
                                      {1, 2, 0, "random"}};
  const std::vector<Ancestor> lineage = reader.lineage(5);
  ASSERT_EQ(lineage.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(lineage[k].id, expected[k].id) << k;
    EXPECT_EQ(lineage[k].generation, expected[k].generation) << k;
    EXPECT_EQ(lineage[k].iteration, expected[k].iteration) << k;
    EXPECT_EQ(lineage[k].op, expected[k].op) << k;
    EXPECT_TRUE(lineage[k].stored);
  }
  EXPECT_EQ(lineage[0].parents, (std::vector<std::int64_t>{3, 4}));

  const std::vector<Ancestor> orphan = reader.lineage(6);
  ASSERT_EQ(orphan.size(), 2u);
  EXPECT_EQ(orphan[1].id, 99);
  EXPECT_EQ(orphan[1].generation, 1);
  EXPECT_FALSE(orphan[1].stored);

  const std::vector<Ancestor> root = reader.lineage(2);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_TRUE(root[0].parents.empty());
  EXPECT_TRUE(reader.lineage(1234).empty());
}

TEST_F(StoredRun, ASnapshotHoldsStillWhileAWriterCommitsAndLaterReadsSeeTheNewRows) {
  auto writer = RunStore::create(path(), {}, 2);
  writer->commit(run.step());
  const RunReader reader(path());
  {
    const RunReader::Snapshot snapshot(reader);
    EXPECT_EQ(reader.candidate_count(), SyntheticRun::kBatch);
    writer->commit(run.step());
    EXPECT_EQ(reader.candidate_count(), SyntheticRun::kBatch);
    EXPECT_EQ(reader.iterations().size(), 1u);
    EXPECT_EQ(reader.info().last_iteration, 0);
  }
  EXPECT_EQ(reader.candidate_count(), 2 * SyntheticRun::kBatch);
  writer->commit(run.step());
  EXPECT_EQ(reader.info().last_iteration, 2);
}

TEST_F(StoredRun, ReadersSeeOnlyCommittedGroupsAndAreNotBlockedByAnOpenOne) {
  RunStoreOptions grouped;
  grouped.commit_interval_seconds = 3600;
  auto writer = RunStore::create(path(), {}, 3, grouped);
  writer->commit(run.step());
  writer->flush();
  writer->commit(run.step());  // an open transaction holds it
  const RunReader reader(path());
  EXPECT_EQ(reader.info().last_iteration, 0);
  EXPECT_EQ(reader.candidate_count(), SyntheticRun::kBatch);
  writer->flush();
  EXPECT_EQ(reader.info().last_iteration, 1);
}

// A writer that opens, commits and closes over and over (each close checkpoints the WAL and
// removes it) while readers open and read: no reader may see "database is locked".
TEST_F(StoredRun, ReadersNeverFailWhileAWriterOpensCommitsAndCloses) {
  RunStore::create(path(), {}, 4).reset();
  std::atomic<bool> done = false;
  std::string writer_error;
  std::thread writer_thread([&] {
    try {
      SyntheticRun writer_run(4);
      for (int i = 0; i < 40; ++i) {
        auto store = RunStore::open_for_resume(path());
        store->commit(writer_run.step());
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
    done = true;
  });
  int reads = 0;
  std::string reader_error;
  std::int64_t last_seen = -1;
  while (!done && reader_error.empty()) {
    try {
      const RunReader reader(path());
      const RunReader::Snapshot snapshot(reader);
      const std::int64_t last = reader.info().last_iteration.value_or(-1);
      std::int64_t count = 0;
      reader.for_each_candidate([&](const StoredCandidate&) { ++count; });
      EXPECT_EQ(count, (last + 1) * SyntheticRun::kBatch);
      EXPECT_GE(last, last_seen);
      last_seen = last;
      ++reads;
    } catch (const std::exception& e) {
      reader_error = e.what();
    }
  }
  writer_thread.join();
  EXPECT_EQ(writer_error, "");
  EXPECT_EQ(reader_error, "");
  EXPECT_GT(reads, 0);
  EXPECT_EQ(RunReader(path()).info().last_iteration, 39);
}

TEST(RunReader, BadFilesGiveOneLineErrorsNamingTheFile) {
  TempDir dir;
  const auto text = dir / "notes.sqlite";
  std::ofstream(text) << std::string(5000, 'x');
  const auto other_db = dir / "other.sqlite";
  raw_exec(other_db, "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);");
  const auto newer = dir / "newer.sqlite";
  RunStore::create(newer, {}, 1).reset();
  raw_exec(newer, "PRAGMA user_version = 99");
  const std::vector<std::pair<std::filesystem::path, std::string>> cases = {
      {text, "notes.sqlite: not an SQLite database (expected a qdgen run file)"},
      {other_db, "other.sqlite: an SQLite database but not a qdgen run"},
      {newer, "newer.sqlite: written by a newer qdgen (schema version 99"},
      {dir / "missing.sqlite", "missing.sqlite: no such run file"},
      {dir.path(), ": is a folder, not a run file"}};
  for (const auto& [path, message] : cases) {
    const std::string error = error_of([&] { RunReader reader(path); });
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST_F(StoredRun, AValueTheCodecCannotReadIsNamedByFileCandidateAndColumn) {
  write(1);
  raw_exec(path(),
           "UPDATE candidate SET metadata = '{\"judge\": ' WHERE candidate_id = 3;"
           "UPDATE candidate SET measures = '{\"a\": 1}' WHERE candidate_id = 4;"
           "UPDATE candidate SET measures = '[0.5, \"x\"]' WHERE candidate_id = 5;"
           "UPDATE candidate SET solution = x'00010203040506', solution_text = NULL "
           "WHERE candidate_id = 7;"
           "UPDATE candidate SET parent_ids = '[1.5]' WHERE candidate_id = 8;");
  const RunReader reader(path());
  const std::string file = path().string();
  const std::vector<std::pair<std::int64_t, std::string>> cases = {
      {3, file + ": candidate 3, column metadata: not JSON (parse error at byte 11)"},
      {4, file + ": candidate 4, column measures: expected a JSON array of numbers"},
      {5, file + ": candidate 5, column measures: expected a JSON array of numbers, got \"x\""},
      {7, file + ": candidate 7, column solution: BLOB of 7 bytes is not a whole number of "
                 "8-byte values"},
      {8, file + ": candidate 8, column parent_ids: expected a JSON array of candidate ids, "
                 "got [1.5]"}};
  for (const auto& [id, message] : cases)
    EXPECT_EQ(error_of([&, id = id] { reader.candidate(id); }), message);
  // Export stops at the first such row with the same message.
  std::ostringstream out;
  EXPECT_EQ(
      error_of([&] { export_run(path(), ExportTable::kCandidates, ExportFormat::kJsonl, out); }),
      cases[0].second);
}

}  // namespace
}  // namespace qdgen::store
