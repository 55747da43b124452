// The run store keeps the engine state of the last committed iteration only: it is all a
// resume needs, and CMA-ES emitters' state is megabytes per iteration.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "qdgen/store/run_store.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::testing::TempDir;
using testing::SyntheticRun;

// engine_state of every iteration row, in order.
std::vector<std::string> engine_states(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  std::vector<std::string> states;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return states;
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT engine_state FROM iteration ORDER BY iteration", -1, &select,
                     nullptr);
  while (sqlite3_step(select) == SQLITE_ROW)
    states.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)));
  sqlite3_finalize(select);
  sqlite3_close(db);
  return states;
}

// The next iteration of `run`, carrying a 200 kB engine state.
IterationRecord step_with_big_state(SyntheticRun& run) {
  IterationRecord record = run.step();
  record.engine_state = {{"next_id", run.next_id}, {"blob", std::string(200'000, 'x')}};
  return record;
}

TEST(RunStoreEngineState, OnlyTheLastIterationKeepsItsState) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(3);
  {
    auto store = RunStore::create(path, {}, 3);
    for (int i = 0; i < 30; ++i) store->commit(step_with_big_state(run));
  }
  const auto states = engine_states(path);
  ASSERT_EQ(states.size(), 30u);
  for (std::size_t i = 0; i + 1 < states.size(); ++i) EXPECT_EQ(states[i], "{}") << "row " << i;
  EXPECT_EQ(nlohmann::json::parse(states.back()).at("next_id"), run.next_id);
  EXPECT_EQ(RunStore::open_read_only(path)->last_engine_state().at("next_id"), run.next_id);
  // 30 states of 200 kB would take 6 MB; freed pages are reused instead.
  EXPECT_LT(std::filesystem::file_size(path), 2'000'000u);
}

TEST(RunStoreEngineState, ResumedRunsKeepOnlyTheirLastStateToo) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(5);
  {
    auto store = RunStore::create(path, {}, 5);
    for (int i = 0; i < 4; ++i) store->commit(step_with_big_state(run));
  }
  {
    auto store = RunStore::open_for_resume(path);
    EXPECT_EQ(store->last_engine_state().at("next_id"), run.next_id);
    for (int i = 0; i < 3; ++i) store->commit(step_with_big_state(run));
  }
  const auto states = engine_states(path);
  ASSERT_EQ(states.size(), 7u);
  EXPECT_EQ(std::count(states.begin(), states.end(), "{}"), 6);
  EXPECT_EQ(RunStore::open_read_only(path)->last_engine_state().at("next_id"), run.next_id);
}

TEST(RunStoreEngineState, AFailedCommitLeavesThePreviousStateInPlace) {
  TempDir dir;
  const auto path = dir / "run.sqlite";
  SyntheticRun run(9);
  auto store = RunStore::create(path, {}, 9);
  store->commit(step_with_big_state(run));
  const std::int64_t committed_next_id = run.next_id;
  // Candidate ids that are already stored fail inside the transaction, which rolls back.
  IterationRecord clash = run.step();
  for (auto& c : clash.candidates) c.id -= SyntheticRun::kBatch;
  EXPECT_THROW(store->commit(clash), std::exception);
  EXPECT_EQ(store->last_engine_state().at("next_id"), committed_next_id);
  EXPECT_EQ(engine_states(path).size(), 1u);
}

}  // namespace
}  // namespace qdgen::store
