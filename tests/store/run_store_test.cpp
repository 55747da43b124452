#include "qdgen/store/run_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>

#include "qdgen/archive/novelty_archive.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::AddStatus;
using archive::Candidate;
using archive::NoveltyArchive;
using archive::NoveltyOptions;
using archive::Rng;
using archive::testing::TempDir;
using testing::SyntheticRun;

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// The metadata column as written, ordered by candidate id.
std::vector<std::string> stored_metadata(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return out;
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT metadata FROM candidate ORDER BY candidate_id", -1, &statement,
                     nullptr);
  while (statement != nullptr && sqlite3_step(statement) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

std::string error_of_resume(const std::filesystem::path& path) {
  try {
    RunStore::open_for_resume(path);
  } catch (const RunStoreError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RunStore, CreateWritesARunThatReadsBack) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  const nlohmann::json config = {{"archive", {{"type", "grid"}}}, {"iterations", 3}};
  {
    auto store = RunStore::create(path, config, 0xFFFF'FFFF'FFFF'FFF0ULL,
                                  RunStoreOptions{KeepCandidates::kAdded});
    SyntheticRun run(1);
    store->commit(run.step());
    store->commit(run.step());
  }
  const auto reader = RunStore::open_read_only(path);
  const RunInfo info = reader->info();
  EXPECT_EQ(info.config, config);
  EXPECT_EQ(info.seed, 0xFFFF'FFFF'FFFF'FFF0ULL);
  EXPECT_EQ(info.status, RunStatus::kRunning);
  EXPECT_EQ(info.last_iteration, 1);
  EXPECT_EQ(info.keep_candidates, KeepCandidates::kAdded);
  EXPECT_EQ(info.schema_version, kRunStoreSchemaVersion);
  EXPECT_EQ(info.created.size(), 20u);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(reader->last_engine_state().at("next_id"), 48);
  EXPECT_THROW(reader->commit(IterationRecord{}), RunStoreError);
}

TEST(RunStore, ReplayOfAddedCandidatesRebuildsBothCmaMaeArchivesExactly) {
  for (const auto keep : {KeepCandidates::kAll, KeepCandidates::kAdded}) {
    TempDir dir;
    SyntheticRun live(7);
    {
      auto store = RunStore::create(dir / "run.sqlite", {}, 7, RunStoreOptions{keep});
      for (int i = 0; i < 15; ++i) store->commit(live.step());
    }
    SyntheticRun rebuilt(999);
    rebuilt.resume_from(*RunStore::open_read_only(dir / "run.sqlite"));
    std::string why;
    EXPECT_TRUE(testing::same_archive(live.soft, rebuilt.soft, why)) << why;
    EXPECT_TRUE(testing::same_archive(live.result, rebuilt.result, why)) << why;
    // The restored loop continues exactly as the live one.
    const IterationRecord a = live.step();
    const IterationRecord b = rebuilt.step();
    EXPECT_EQ(a.rng_state, b.rng_state);
    EXPECT_EQ(a.candidates.front().id, b.candidates.front().id);
  }
}

TEST(RunStore, StoredCandidatesKeepEveryField) {
  TempDir dir;
  SyntheticRun run(3);
  const IterationRecord record = run.step();
  {
    auto store = RunStore::create(dir / "run.sqlite", {}, 3);
    store->commit(record);
  }
  const auto batches =
      RunStore::open_read_only(dir / "run.sqlite")->added_candidates_by_iteration();
  ASSERT_EQ(batches.size(), 1u);
  std::size_t j = 0;
  for (std::size_t i = 0; i < record.candidates.size(); ++i) {
    if (record.add_results[i].status == AddStatus::kNotAdded &&
        record.result_add_results[i].status == AddStatus::kNotAdded)
      continue;
    const Candidate& want = record.candidates[i];
    const Candidate& got = batches[0].at(j++);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.solution, want.solution);
    EXPECT_EQ(got.objective, want.objective);
    EXPECT_EQ(got.measures, want.measures);
    EXPECT_EQ(*got.embedding, *want.embedding);
    EXPECT_EQ(got.metadata, want.metadata);
    EXPECT_EQ(got.emitter, want.emitter);
  }
  EXPECT_EQ(j, batches[0].size());
  // On disk the emitter is one more metadata key (keys sorted), {} when there is nothing.
  const auto texts = stored_metadata(dir / "run.sqlite");
  ASSERT_EQ(texts.size(), record.candidates.size());  // keep = all
  EXPECT_EQ(texts[0], R"({"emitter":0,"i":0,"judge":"synthetic"})");
  EXPECT_EQ(texts[1], R"({"emitter":1})");
  EXPECT_EQ(texts[2], R"({"i":2,"judge":"synthetic"})");
}

TEST(RunStore, NoveltyArchiveWithEvictionReplaysExactlyAndTheEliteTableFollows) {
  TempDir dir;
  NoveltyOptions options;
  options.k = 3;
  options.threshold = 0.15;
  options.local_competition = true;
  options.max_size = 12;
  NoveltyArchive live(2, options);
  Rng rng(5);
  {
    auto store =
        RunStore::create(dir / "run.sqlite", {}, 5, RunStoreOptions{KeepCandidates::kAdded});
    for (int it = 0; it < 12; ++it) {
      IterationRecord record;
      record.iteration = it;
      record.candidates = testing::random_batch(rng, it * 10, 10, 2, it);
      record.add_results = live.add(record.candidates);
      record.removed_candidate_ids = live.removed_candidate_ids();
      record.rng_state = "-";
      store->commit(record);
    }
  }
  NoveltyArchive rebuilt(2, options);
  for (const auto& batch :
       RunStore::open_read_only(dir / "run.sqlite")->added_candidates_by_iteration())
    rebuilt.add(batch);
  ASSERT_EQ(rebuilt.size(), live.size());
  std::map<std::int64_t, std::int64_t> expected;
  for (std::size_t i = 0; i < live.elites().size(); ++i) {
    EXPECT_EQ(rebuilt.elites()[i]->cell, live.elites()[i]->cell);
    EXPECT_EQ(rebuilt.elites()[i]->candidate.id, live.elites()[i]->candidate.id);
    expected[live.elites()[i]->cell] = live.elites()[i]->candidate.id;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir / "run.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT cell, candidate_id FROM elite ORDER BY cell", -1, &select,
                     nullptr);
  std::map<std::int64_t, std::int64_t> table;
  while (sqlite3_step(select) == SQLITE_ROW)
    table[sqlite3_column_int64(select, 0)] = sqlite3_column_int64(select, 1);
  sqlite3_finalize(select);
  sqlite3_close(db);
  EXPECT_EQ(table, expected);
}

TEST(RunStore, ReadersReadWhileAWriterHoldsAnOpenTransaction) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(2);
  auto writer = RunStore::create(path, {}, 2);
  writer->commit(run.step());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE run SET updated = 'x';", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  {
    const auto reader = RunStore::open_read_only(path);
    EXPECT_EQ(reader->info().last_iteration, 0);
    EXPECT_EQ(reader->added_candidates_by_iteration().size(), 1u);
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  const auto reader = RunStore::open_read_only(path);  // stays open while the writer goes on
  writer->commit(run.step());
  EXPECT_EQ(reader->info().last_iteration, 1);
}

TEST(RunStore, RefusesAnExistingPathAndLeavesItUntouched) {
  TempDir dir;
  const auto path = dir / "precious.txt";
  std::ofstream(path) << "not yours";
  try {
    RunStore::create(path, {}, 1);
    FAIL();
  } catch (const RunStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("precious.txt: already exists"), std::string::npos);
  }
  EXPECT_EQ(bytes_of(path), "not yours");
}

TEST(RunStore, BadFilesGiveOneLineErrorsAndStayByteForByteTheSame) {
  TempDir dir;
  const auto text = dir / "notes.sqlite";
  std::ofstream(text) << std::string(5000, 'x');
  const auto other_db = dir / "other.sqlite";
  raw_exec(other_db, "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);");
  const auto newer = dir / "newer.sqlite";
  RunStore::create(newer, {}, 1).reset();
  raw_exec(newer, "PRAGMA user_version = 99");
  const auto finished = dir / "finished.sqlite";
  RunStore::create(finished, {}, 1)->set_status(RunStatus::kFinished);

  const std::vector<std::pair<std::filesystem::path, std::string>> cases = {
      {text, "notes.sqlite: not an SQLite database"},
      {other_db, "other.sqlite: an SQLite database but not a qdgen run"},
      {newer,
       "newer.sqlite: written by a newer qdgen (schema version 99; this qdgen reads up to 1)"},
      {finished, "finished.sqlite: the run is finished; nothing to resume"},
      {dir / "missing.sqlite", "missing.sqlite: no such run file"}};
  for (const auto& [path, message] : cases) {
    const std::string before = bytes_of(path);
    const std::string error = error_of_resume(path);
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    EXPECT_EQ(bytes_of(path), before) << path;
  }
  EXPECT_NO_THROW(RunStore::open_read_only(finished));
}

TEST(RunStore, CommitRejectsMismatchedRecordsWithoutWritingAnything) {
  TempDir dir;
  SyntheticRun run(4);
  auto store = RunStore::create(dir / "run.sqlite", {}, 4);
  IterationRecord record = run.step();
  record.add_results.pop_back();
  EXPECT_THROW(store->commit(record), RunStoreError);
  IterationRecord good = run.step();
  store->commit(good);
  try {
    store->commit(good);
    FAIL();
  } catch (const RunStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("is not after the last committed iteration 1"),
              std::string::npos);
  }
  EXPECT_EQ(store->info().last_iteration, 1);
}

}  // namespace
}  // namespace qdgen::store
