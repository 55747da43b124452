// Sizes from a config that no machine of this kind can hold are refused before anything is
// allocated, with what they would need; they used to end in a bare std::bad_alloc.

#include "qdgen/common/memory_budget.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;

std::string run_config(const nlohmann::json& config, const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("qdgen_memory_budget." + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / (name + ".json");
  std::ofstream(path) << config.dump();
  const auto result = qdgen_test::qdgen("run '" + path.string() + "' --in-memory --iterations 1");
  EXPECT_EQ(result.status, 1) << result.output;
  return result.output;
}

nlohmann::json sphere(int dim, const nlohmann::json& archive_dims, const nlohmann::json& emitter) {
  return {{"seed", 1},
          {"iterations", 1},
          {"domain", {{"kind", "sphere"}, {"dim", dim}}},
          {"archive", {{"type", "grid"}, {"dims", archive_dims}}},
          {"emitters", {emitter}}};
}

const nlohmann::json kSmallGrid = {{{"range", {-1, 1}}, {"cells", 10}},
                                   {{"range", {-1, 1}}, {"cells", 10}}};

TEST(MemoryBudget, AGridOfATrillionCellsSaysWhatItWouldNeed) {
  const nlohmann::json huge = {{{"range", {-1, 1}}, {"cells", 1000000}},
                               {{"range", {-1, 1}}, {"cells", 1000000}}};
  const auto output = run_config(sphere(4, huge, {{"kind", "gaussian"}, {"sigma", 0.1}}), "grid");
  EXPECT_NE(output.find("archive: 1000000000000 cells would need "), std::string::npos) << output;
  EXPECT_NE(output.find("TiB of memory; this machine has "), std::string::npos) << output;
}

TEST(MemoryBudget, HugeBatchesOfHugeSolutionsSayWhatTheyWouldNeed) {
  const auto output = run_config(
      sphere(1000000, kSmallGrid, {{"kind", "gaussian"}, {"sigma", 0.1}, {"batch", 1000000}}),
      "batch");
  EXPECT_NE(output.find("an iteration of 1000000 candidates of dimension 1000000 would need"),
            std::string::npos)
      << output;
}

TEST(MemoryBudget, CmaEsOnAMillionDimensionsSaysWhatItWouldNeed) {
  const auto output =
      run_config(sphere(1000000, kSmallGrid, {{"kind", "cma_es"}, {"sigma0", 0.5}}), "cma");
  EXPECT_NE(output.find("covariance matrices (dimension 1000000) would need"), std::string::npos)
      << output;
}

TEST(MemoryBudget, BytesAreWrittenInBinaryUnits) {
  EXPECT_EQ(qdgen::common::format_bytes(512), "512 bytes");
  EXPECT_EQ(qdgen::common::format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(qdgen::common::format_bytes(3.0 * (1ull << 40)), "3.0 TiB");
  EXPECT_GT(qdgen::common::physical_memory_bytes(), 1ull << 20);
  EXPECT_NO_THROW(qdgen::common::require_memory(1024, "a kilobyte"));
  EXPECT_THROW(qdgen::common::require_memory(1e30, "a lot"), std::runtime_error);
}

}  // namespace
