// A run that fails part-way is marked failed with its reason, keeps what it committed, and
// may be tried again with --resume; it no longer stays "running" as if still going.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("qdgen_run_failure." + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

std::string sql(const fs::path& store, const std::string& query) {
  auto result = qdgen_test::run_shell("sqlite3 '" + store.string() + "' \"" + query + "\"");
  while (!result.output.empty() && result.output.back() == '\n') result.output.pop_back();
  return result.output;
}

// sigma 1e308 passes the config's checks (a positive number) but makes every child infinite.
fs::path failing_config() {
  const nlohmann::json config = {
      {"name", "fails"},
      {"seed", 3},
      {"iterations", 5},
      {"domain", {{"kind", "sphere"}, {"dim", 4}}},
      {"archive",
       {{"type", "grid"},
        {"dims",
         {{{"range", {-10.24, 10.24}}, {"cells", 10}},
          {{"range", {-10.24, 10.24}}, {"cells", 10}}}}}},
      {"emitters", {{{"kind", "gaussian"}, {"batch", 8}, {"sigma", 1e308}}}}};
  const fs::path path = scratch("fails.json");
  std::ofstream(path) << config.dump();
  return path;
}

TEST(RunFailure, AFailedRunIsMarkedFailedWithItsReason) {
  const fs::path store = scratch("failed.sqlite");
  const auto run =
      qdgen_test::qdgen("run '" + failing_config().string() + "' --out '" + store.string() + "'");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("non-finite objective"), std::string::npos) << run.output;
  EXPECT_EQ(sql(store, "SELECT status FROM run"), "failed");
  EXPECT_EQ(sql(store, "SELECT value FROM meta WHERE key = 'failure'"),
            "iteration 0: archive: candidate 0 has a non-finite objective");

  // Tried again, it fails the same way (the config is the cause) and stays failed; the
  // store stays a consistent qdgen run.
  const auto again = qdgen_test::qdgen("run --resume '" + store.string() + "'");
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_EQ(sql(store, "SELECT status FROM run"), "failed");
  EXPECT_EQ(sql(store, "PRAGMA integrity_check"), "ok");
}

}  // namespace
