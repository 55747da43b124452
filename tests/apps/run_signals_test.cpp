// qdgen run under signals: SIGINT, SIGTERM and SIGHUP stop it after the iteration in flight,
// with the pending group committed, an exit status of 128 + the signal (as a shell reports a
// process it killed) and a line that says how to resume; the stopped run resumes.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "run_process.hpp"

namespace {

const std::string kConfig = std::string(QDGEN_SOURCE_DIR) + "/experiments/demo-sphere-small.json";

std::filesystem::path scratch(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("qdgen_run_signals." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / name);
  return dir / name;
}

// Iterations committed to `store`, or -1 while it cannot be read (not made yet, or its schema
// not yet written). Read-only: opening it read-write would create the file the run then
// refuses.
long long stored_iterations(const std::filesystem::path& store) {
  sqlite3* db = nullptr;
  long long count = -1;
  if (sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM iteration", -1, &statement, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
      count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return count;
}

// Runs `qdgen <arguments>` and sends `signal` once `store` holds at least `min_iterations`
// committed iterations, then waits for it to stop. Waiting on the run's own progress instead
// of a fixed time keeps the test true on a loaded machine (a sanitized CI build may take
// seconds to get anywhere); the 10-minute bounds only catch a hung run.
qdgen_test::ProcessResult run_and_signal(const std::string& arguments, int signal,
                                         const std::filesystem::path& store,
                                         long long min_iterations) {
  qdgen_test::BackgroundProcess run(std::string(QDGEN_BINARY) + " " + arguments);
  run.wait_until([&] { return stored_iterations(store) >= min_iterations; }, 600);
  run.signal(signal);
  return run.wait(600);
}

class RunSignals : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(RunSignals, StopWithTheSignalsStatusAndResume) {
  const auto [name, number] = GetParam();
  const auto store = scratch(std::string(name) + ".sqlite");
  const auto stopped =
      run_and_signal("run " + kConfig + " --out '" + store.string() + "' --iterations 1000000000",
                     number, store, 1);
  EXPECT_EQ(stopped.status, 128 + number) << stopped.output;
  EXPECT_NE(stopped.output.find(std::string("stopped by SIG") + name +
                                " (resume with qdgen run --resume " + store.string() + ")"),
            std::string::npos)
      << stopped.output;
  const long long before = stored_iterations(store);
  EXPECT_GT(before, 0);
  // The resumed run carries on from the stopped one (and is stopped the same way).
  const auto resumed =
      run_and_signal("run --resume '" + store.string() + "'", number, store, before + 1);
  EXPECT_EQ(resumed.status, 128 + number) << resumed.output;
  EXPECT_GT(stored_iterations(store), before);
}

INSTANTIATE_TEST_SUITE_P(Signals, RunSignals,
                         ::testing::Values(std::pair<const char*, int>{"INT", SIGINT},
                                           std::pair<const char*, int>{"TERM", SIGTERM},
                                           std::pair<const char*, int>{"HUP", SIGHUP}),
                         [](const auto& signal) { return std::string(signal.param.first); });

TEST(RunSignals, AResumeWithoutAConfigLogsAtTheRunsOwnCadence) {
  const auto config_path = scratch("log_every.json");
  auto config = nlohmann::json::parse(std::ifstream(kConfig));
  config["metrics"]["log_every"] = 40;
  config.erase("store");
  std::ofstream(config_path) << config.dump();
  const auto store = scratch("log_every.sqlite");
  run_and_signal(
      "run " + config_path.string() + " --out '" + store.string() + "' --iterations 1000000000",
      SIGTERM, store, 1);
  // Stopped only once the resumed run has gone 81 iterations past where it began, so it has
  // crossed at least one multiple of 40 whatever the machine's speed.
  const long long before = stored_iterations(store);
  ASSERT_GT(before, 0);
  const auto resumed =
      run_and_signal("run --resume '" + store.string() + "'", SIGTERM, store, before + 81);
  std::istringstream lines(resumed.output);
  int progress_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("iter ", 0) != 0) continue;
    ++progress_lines;
    EXPECT_EQ(std::stoll(line.substr(5)) % 40, 0) << line;
  }
  EXPECT_GT(progress_lines, 0) << resumed.output;
}

TEST(RunSignals, AnInMemoryRunSaysThereIsNothingToResume) {
  // Signalled once its first progress line is out, so its handlers are in place.
  qdgen_test::BackgroundProcess run(std::string(QDGEN_BINARY) + " run " + kConfig +
                                    " --in-memory --iterations 1000000000");
  ASSERT_TRUE(run.wait_for_output("iter ", 600)) << run.output();
  run.signal(SIGTERM);
  const auto result = run.wait(600);
  EXPECT_NE(result.output.find("stopped by SIGTERM (in memory: nothing to resume)"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.status, 143) << result.output;
}

}  // namespace
