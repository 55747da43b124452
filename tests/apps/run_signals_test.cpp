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

// Starts `qdgen <arguments>` in the background, sends `signal_name` after `seconds`, and
// prints the command's output and then "status=N".
qdgen_test::ProcessResult run_and_signal(const std::string& arguments,
                                         const std::string& signal_name, double seconds) {
  // Built with a stream: GCC 12 warns falsely (-Wrestrict) on this chain of string additions.
  std::ostringstream script;
  script << "(" << QDGEN_BINARY << " " << arguments << " & pid=$!; sleep " << seconds << "; kill -"
         << signal_name << " $pid; wait $pid; echo status=$?)";
  return qdgen_test::run_shell(script.str());
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
      "run " + kConfig + " --out '" + store.string() + "' --iterations 1000000000", name, 0.7);
  const std::string status = "status=" + std::to_string(128 + number);
  EXPECT_NE(stopped.output.find(status), std::string::npos) << stopped.output;
  EXPECT_NE(stopped.output.find(std::string("stopped by SIG") + name +
                                " (resume with qdgen run --resume " + store.string() + ")"),
            std::string::npos)
      << stopped.output;
  const long long before = stored_iterations(store);
  EXPECT_GT(before, 0);
  // The resumed run carries on from the stopped one (and is stopped the same way).
  const auto resumed = run_and_signal("run --resume '" + store.string() + "'", name, 0.7);
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
      "TERM", 0.5);
  const auto resumed = run_and_signal("run --resume '" + store.string() + "'", "TERM", 0.5);
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
  const auto result =
      run_and_signal("run " + kConfig + " --in-memory --iterations 1000000000", "TERM", 0.5);
  EXPECT_NE(result.output.find("stopped by SIGTERM (in memory: nothing to resume)"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("status=143"), std::string::npos) << result.output;
}

}  // namespace
