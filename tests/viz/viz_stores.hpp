#pragma once
// Small real run stores for the viz tests, written by the qdgen binary itself: a sphere run
// on a grid with non-uniform edges, on a CVT and on a novelty archive.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_process.hpp"

namespace qdgen_test {

// Cell edges of the first measure: non-uniform, so that the maps must draw them to scale.
inline const std::vector<double> kSphereEdges = {-10.24, -5, -1, 0, 1, 5, 10.24};

inline nlohmann::json sphere_config(const std::string& name, nlohmann::json archive,
                                    int iterations = 5) {
  return {{"name", name},
          {"domain", {{"kind", "sphere"}, {"dim", 4}}},
          {"archive", std::move(archive)},
          {"emitters", {{{"kind", "gaussian"}, {"batch", 8}, {"sigma", 0.5}}}},
          {"iterations", iterations},
          {"seed", 3},
          {"store", {{"keep", "all"}}}};
}

inline nlohmann::json grid_archive() {
  return {{"type", "grid"},
          {"dims", {{{"edges", kSphereEdges}}, {{"range", {-10.24, 10.24}}, {"cells", 4}}}}};
}
inline nlohmann::json cvt_archive() {
  return {
      {"type", "cvt"}, {"cells", 12}, {"ranges", {{-10.24, 10.24}, {-10.24, 10.24}}}, {"seed", 1}};
}
inline nlohmann::json novelty_archive() {
  return {{"type", "novelty"}, {"measure_dim", 2}, {"threshold", 0.5}, {"k", 3}};
}

// Writes `config` beside `store` and runs it; fails the test when qdgen does.
inline void make_store(const nlohmann::json& config, const std::filesystem::path& store) {
  std::filesystem::path config_file = store;
  config_file.replace_extension(".json");
  std::ofstream(config_file) << config.dump(2);
  std::filesystem::remove(store);
  const ProcessResult result =
      qdgen("run " + config_file.string() + " --out " + store.string() + " --threads 1");
  ASSERT_EQ(result.status, 0) << result.output;
}

}  // namespace qdgen_test
