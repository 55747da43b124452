// qdgen run under signals: SIGINT, SIGTERM and SIGHUP stop it after the iteration in flight,
// with the pending group committed, an exit status of 128 + the signal (as a shell reports a
// process it killed) and a line that says how to resume; the stopped run resumes.

#include <gtest/gtest.h>
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

// Starts `qdgen <arguments>` in the background with its output in `log`, sends `signal_name`
// once the shell test `ready` holds, and prints the command's output and then "status=N".
// Waiting on the run's own progress instead of a fixed time keeps the test true on a loaded
// machine (a sanitized CI build may take seconds to get anywhere); 12,000 polls of 50 ms (10
// minutes at least) only bound a hung run. /bin/sh, so no $SECONDS.
qdgen_test::ProcessResult run_and_signal_when(const std::string& arguments,
                                              const std::string& signal_name,
                                              const std::string& ready,
                                              const std::filesystem::path& log) {
  // Built with a stream: GCC 12 warns falsely (-Wrestrict) on this chain of string additions.
  std::ostringstream script;
  script << "(" << QDGEN_BINARY << " " << arguments << " >'" << log.string()
         << "' 2>&1 & pid=$!; polls=0; "
         << "while [ $polls -lt 12000 ] && kill -0 $pid 2>/dev/null && ! (" << ready
         << "); do sleep 0.05; polls=$((polls + 1)); done; kill -" << signal_name
         << " $pid; wait $pid; s=$?; cat '" << log.string() << "'; echo status=$s)";
  return qdgen_test::run_shell(script.str());
}

// As above, signalled once `store` holds at least `min_iterations` committed iterations.
qdgen_test::ProcessResult run_and_signal(const std::string& arguments,
                                         const std::string& signal_name,
                                         const std::filesystem::path& store,
                                         long long min_iterations) {
  // Read-only, and only once the run made the file: a plain sqlite3 would create it first.
  // A stream again, for GCC 12's false -Wrestrict.
  std::ostringstream ready;
  ready << "[ -s '" << store.string() << "' ] && [ \"$(sqlite3 -readonly '" << store.string()
        << "' 'SELECT count(*) FROM iteration' 2>/dev/null || echo 0)\" -ge " << min_iterations
        << " ]";
  return run_and_signal_when(arguments, signal_name, ready.str(), store.string() + ".log");
}

long long stored_iterations(const std::filesystem::path& store) {
  const auto count =
      qdgen_test::run_shell("sqlite3 '" + store.string() + "' 'SELECT count(*) FROM iteration'");
  return count.status == 0 ? std::stoll(count.output) : -1;
}

class RunSignals : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(RunSignals, StopWithTheSignalsStatusAndResume) {
  const auto [name, number] = GetParam();
  const auto store = scratch(std::string(name) + ".sqlite");
  const auto stopped = run_and_signal(
      "run " + kConfig + " --out '" + store.string() + "' --iterations 1000000000", name, store, 1);
  const std::string status = "status=" + std::to_string(128 + number);
  EXPECT_NE(stopped.output.find(status), std::string::npos) << stopped.output;
  EXPECT_NE(stopped.output.find(std::string("stopped by SIG") + name +
                                " (resume with qdgen run --resume " + store.string() + ")"),
            std::string::npos)
      << stopped.output;
  const long long before = stored_iterations(store);
  EXPECT_GT(before, 0);
  // The resumed run carries on from the stopped one (and is stopped the same way).
  const auto resumed =
      run_and_signal("run --resume '" + store.string() + "'", name, store, before + 1);
  EXPECT_NE(resumed.output.find(status), std::string::npos) << resumed.output;
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
      "TERM", store, 1);
  // Stopped only once the resumed run has gone 81 iterations past where it began, so it has
  // crossed at least one multiple of 40 whatever the machine's speed.
  const long long before = stored_iterations(store);
  ASSERT_GT(before, 0);
  const auto resumed =
      run_and_signal("run --resume '" + store.string() + "'", "TERM", store, before + 81);
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
  const auto log = scratch("in_memory.log");
  const auto result = run_and_signal_when("run " + kConfig + " --in-memory --iterations 1000000000",
                                          "TERM", "grep -q '^iter ' '" + log.string() + "'", log);
  EXPECT_NE(result.output.find("stopped by SIGTERM (in memory: nothing to resume)"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("status=143"), std::string::npos) << result.output;
}

}  // namespace
