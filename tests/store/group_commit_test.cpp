// Iterations reach the file in groups (RunStoreOptions::commit_interval_seconds): another
// connection sees a group only once it is committed, a failed iteration undoes itself alone,
// and flush, set_status and the destructor commit what is pending.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "qdgen/store/run_store.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::testing::TempDir;
using testing::SyntheticRun;

// Iteration rows another connection sees (-1 when the file cannot be read).
int visible_iterations(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  int count = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* select = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM iteration", -1, &select, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(select) == SQLITE_ROW)
      count = sqlite3_column_int(select, 0);
    sqlite3_finalize(select);
  }
  sqlite3_close(db);
  return count;
}

RunStoreOptions grouped(double seconds) {
  RunStoreOptions options;
  options.commit_interval_seconds = seconds;
  return options;
}

TEST(RunStoreGroupCommit, EveryIterationIsVisibleAtOnceByDefault) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(1);
  auto store = RunStore::create(path, {}, 1);
  for (int i = 1; i <= 3; ++i) {
    store->commit(run.step());
    EXPECT_EQ(visible_iterations(path), i);
  }
}

TEST(RunStoreGroupCommit, AGroupBecomesVisibleWhenItIsCommitted) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(2);
  auto store = RunStore::create(path, {}, 2, grouped(3600));
  for (int i = 0; i < 3; ++i) store->commit(run.step());
  EXPECT_EQ(visible_iterations(path), 0);
  EXPECT_EQ(store->info().last_iteration, 2);  // the writer sees its own group
  store->flush();
  EXPECT_EQ(visible_iterations(path), 3);
  store->commit(run.step());
  store->set_status(RunStatus::kFinished);
  EXPECT_EQ(visible_iterations(path), 4);
}

TEST(RunStoreGroupCommit, ANewGroupStartsOnceTheIntervalHasPassed) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(3);
  auto store = RunStore::create(path, {}, 3, grouped(1e-9));
  store->commit(run.step());
  EXPECT_EQ(visible_iterations(path), 1);
}

TEST(RunStoreGroupCommit, TheDestructorCommitsTheOpenGroup) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(4);
  {
    auto store = RunStore::create(path, {}, 4, grouped(3600));
    store->commit(run.step());
    store->commit(run.step());
    EXPECT_EQ(visible_iterations(path), 0);
  }
  EXPECT_EQ(visible_iterations(path), 2);
  EXPECT_EQ(RunStore::open_for_resume(path)->info().last_iteration, 1);
}

TEST(RunStoreGroupCommit, AFailedIterationUndoesItselfAndKeepsTheGroupBeforeIt) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(5);
  auto store = RunStore::create(path, {}, 5, grouped(3600));
  store->commit(run.step());
  store->commit(run.step());
  const std::string rng_after_two = store->last_rng_state();
  // Candidate ids that are already stored fail inside the iteration's savepoint.
  IterationRecord clash = run.step();
  for (auto& c : clash.candidates) c.id -= SyntheticRun::kBatch;
  EXPECT_THROW(store->commit(clash), std::exception);
  EXPECT_EQ(visible_iterations(path), 2);
  EXPECT_EQ(store->last_rng_state(), rng_after_two);
  // The store goes on: the same iteration with proper ids commits after the group.
  for (auto& c : clash.candidates) c.id += SyntheticRun::kBatch;
  store->commit(clash);
  store->flush();
  EXPECT_EQ(visible_iterations(path), 3);
}

}  // namespace
}  // namespace qdgen::store
