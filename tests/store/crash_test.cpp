// Acceptance: a writer killed with SIGKILL at random moments never loses or corrupts a
// committed iteration, and resuming ends with exactly the archive of an uninterrupted run.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::Rng;
using archive::uniform01;
using archive::testing::TempDir;
using testing::SyntheticRun;

constexpr int kIterations = 12;
constexpr std::uint64_t kSeed = 2024;

void write_run(const std::filesystem::path& path, std::vector<std::string>* rng_states) {
  SyntheticRun run(kSeed);
  auto store = RunStore::create(path, {{"test", "crash"}}, kSeed);
  for (int i = 0; i < kIterations; ++i) {
    const IterationRecord record = run.step();
    if (rng_states) rng_states->push_back(record.rng_state);
    store->commit(record);
  }
  store->set_status(RunStatus::kFinished);
}

std::string query_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
  std::string out;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(statement, 0);
    out += (text ? reinterpret_cast<const char*>(text) : "NULL") + std::string("\n");
  }
  sqlite3_finalize(statement);
  return out;
}

TEST(CrashSafety, SigkillAtRandomMomentsLosesNothingCommittedAndResumesExactly) {
  TempDir dir;
  std::vector<std::string> reference_rng;
  write_run(dir / "reference.sqlite", &reference_rng);
  // The kills are timed against a warm run (the first one pays for cold caches and was up to
  // several times slower, so delays measured from it could all land after the end).
  const auto start = std::chrono::steady_clock::now();
  write_run(dir / "warm.sqlite", nullptr);
  const double full_run_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  SyntheticRun reference(kSeed);
  reference.resume_from(*RunStore::open_read_only(dir / "reference.sqlite"));

  Rng rng(77);
  int killed_mid_run = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const auto path = dir / ("trial" + std::to_string(trial) + ".sqlite");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        write_run(path, nullptr);
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(0);
    }
    // Stratified over the run: trial t lands in the t-th twentieth of 90 % of it.
    const auto delay = static_cast<long>((trial + uniform01(rng)) / 20.0 * 0.9 * full_run_us);
    std::this_thread::sleep_for(std::chrono::microseconds(delay));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    if (!std::filesystem::exists(path)) continue;  // killed before the run file appeared

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    EXPECT_EQ(query_text(db, "PRAGMA integrity_check"), "ok\n") << "trial " << trial;
    // Every committed iteration is whole: all its candidates, and the RNG state the
    // uninterrupted run had after it.
    EXPECT_EQ(query_text(db,
                         "SELECT i.iteration FROM iteration i WHERE i.num_candidates != "
                         "(SELECT count(*) FROM candidate c WHERE c.iteration = i.iteration)"),
              "");
    const std::string committed =
        query_text(db, "SELECT rng_state FROM iteration ORDER BY iteration");
    std::string expected;
    const auto count = std::count(committed.begin(), committed.end(), '\n');
    for (std::ptrdiff_t i = 0; i < count; ++i)
      expected += reference_rng[static_cast<std::size_t>(i)] + "\n";
    EXPECT_EQ(committed, expected) << "trial " << trial;
    sqlite3_close(db);

    SyntheticRun resumed(0);
    const RunInfo info = RunStore::open_read_only(path)->info();
    if (info.status != RunStatus::kFinished) {
      ++killed_mid_run;
      auto store = RunStore::open_for_resume(path);
      resumed.resume_from(*store);
      while (resumed.next_iteration < kIterations) store->commit(resumed.step());
      store->set_status(RunStatus::kFinished);
    } else {
      resumed.resume_from(*RunStore::open_read_only(path));
    }
    std::string why;
    EXPECT_TRUE(testing::same_archive(resumed.soft, reference.soft, why))
        << "trial " << trial << ": " << why;
    EXPECT_TRUE(testing::same_archive(resumed.result, reference.result, why))
        << "trial " << trial << ": " << why;
  }
  // The delays land inside the run most of the time (timing varies with machine load).
  std::cout << "killed mid-run in " << killed_mid_run << " of 20 trials\n";
  EXPECT_GE(killed_mid_run, 1);
}

}  // namespace
}  // namespace qdgen::store
