// The run's store writer: records are committed in submission order on its own thread and
// handed back once committed; a failed commit surfaces on the caller's next call.
#include "qdgen/engine/background_commit.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "../store/synthetic_run.hpp"

namespace qdgen::engine {
namespace {

using archive::testing::TempDir;
using store::testing::SyntheticRun;

TEST(BackgroundCommit, CommitsInOrderAndHandsEachRecordBack) {
  TempDir dir;
  SyntheticRun run(11);
  auto store = store::RunStore::create(dir / "run.sqlite", {}, 11);
  std::vector<std::int64_t> handed_back;
  {
    BackgroundCommit writer(*store, [&](store::IterationRecord&& record) {
      handed_back.push_back(record.iteration);
      EXPECT_FALSE(record.candidates.empty());  // the buffers come back with it
    });
    for (int i = 0; i < 5; ++i) writer.submit(run.step());
    writer.finish();
  }
  EXPECT_EQ(handed_back, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(store->info().last_iteration, 4);
}

TEST(BackgroundCommit, AFailedCommitSurfacesOnTheNextCallAndKeepsWhatWentBefore) {
  TempDir dir;
  SyntheticRun run(12);
  auto store = store::RunStore::create(dir / "run.sqlite", {}, 12);
  BackgroundCommit writer(*store, [](store::IterationRecord&&) {});
  writer.submit(run.step());
  writer.submit(run.step());
  store::IterationRecord clash = run.step();
  for (auto& c : clash.candidates) c.id -= SyntheticRun::kBatch;  // ids already stored
  writer.submit(std::move(clash));
  EXPECT_THROW(writer.finish(), std::exception);
  EXPECT_EQ(store->info().last_iteration, 1);
  writer.finish();  // the error was reported once
}

}  // namespace
}  // namespace qdgen::engine
