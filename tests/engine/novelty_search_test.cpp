// Novelty search with local competition: the shipped NSLC config end to end through the
// real binary and store, and a resumed NSLC run continuing exactly.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "qdgen/engine/scheduler.hpp"
#include "run_process.hpp"
#include "sqlite_rows.hpp"

namespace fs = std::filesystem;
using namespace qdgen::engine;
using nlohmann::json;
using qdgen::archive::AddStatus;
using qdgen::store::IterationRecord;

namespace {

const fs::path kNslcConfig = fs::path(QDGEN_SOURCE_DIR) / "experiments" / "sphere-100d-nslc.json";

using qdgen_test::rows;

// The shipped config, shrunk to 10-D so that many iterations stay fast.
json small_nslc_config() {
  std::ifstream in(kNslcConfig);
  json c = json::parse(in);
  c["domain"]["dim"] = 10;
  c["result_archive"]["dims"] = json::array(
      {{{"range", {-25.6, 25.6}}, {"cells", 20}}, {{"range", {-25.6, 25.6}}, {"cells", 20}}});
  c["archive"]["threshold"] = 0.5;
  c["emitters"][0]["count"] = 3;
  c["emitters"][0]["batch"] = 12;
  c.erase("store");
  return c;
}

std::string fingerprint(const std::vector<IterationRecord>& records) {
  std::string text;
  for (const auto& r : records) {
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      const auto& x = std::get<Eigen::VectorXd>(r.candidates[i].solution);
      text += json(std::vector<double>(x.data(), x.data() + x.size())).dump() +
              std::to_string(int(r.add_results[i].status)) +
              std::to_string(int(r.result_add_results[i].status)) + ";";
    }
    text += json(r.removed_candidate_ids).dump() + r.metrics.dump();
  }
  return text;
}

}  // namespace

TEST(NoveltySearch, ShippedNslcConfigRunsEndToEndIntoAStore) {
  const fs::path dir = fs::temp_directory_path() / ("qdgen_nslc_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* threads : {"1", "2"}) {
    const qdgen_test::ProcessResult r = qdgen_test::qdgen(
        "run " + kNslcConfig.string() + " --iterations 4 --threads " + threads +
        " --format json --out " + (dir / (std::string(threads) + ".sqlite")).string());
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const fs::path store = dir / "1.sqlite";
  EXPECT_EQ(rows(store, "SELECT iteration FROM iteration").size(), 4u);
  // The elite table follows the passive 100x100 grid (top-level metrics); the novelty
  // archive, which admits the whole first batch, reports under metrics.archive.
  const std::string text =
      rows(store, "SELECT metrics FROM iteration ORDER BY iteration DESC LIMIT 1").at(0);
  const json last = json::parse(text.substr(0, text.size() - 1));
  EXPECT_GT(last.at("num_elites").get<int>(), 10);
  EXPECT_NEAR(last.at("coverage").get<double>(), last.at("num_elites").get<double>() / 10000,
              1e-12);
  EXPECT_EQ(rows(store, "SELECT cell FROM elite").size(), last.at("num_elites").get<std::size_t>());
  EXPECT_GT(last.at("archive").at("num_elites").get<int>(), 540);
  EXPECT_EQ(last.at("archive").at("coverage"), 0.0);  // unbounded: no cells
  EXPECT_EQ(rows(store, "SELECT DISTINCT operator FROM candidate"),
            std::vector<std::string>{"cma_es|"});
  // Same seed, same store, whatever the thread count.
  const char* candidates = "SELECT candidate_id, solution, status, result_status FROM candidate";
  EXPECT_EQ(rows(store, candidates), rows(dir / "2.sqlite", candidates));
  EXPECT_EQ(rows(store, "SELECT * FROM elite"), rows(dir / "2.sqlite", "SELECT * FROM elite"));
  fs::remove_all(dir);
}

TEST(NoveltySearch, ResumedNslcRunContinuesExactly) {
  const json c = small_nslc_config();
  auto reference = make_scheduler(parse_experiment_config(c, "nslc"), 2);
  std::vector<IterationRecord> uninterrupted;
  for (int i = 0; i < 30; ++i) uninterrupted.push_back(reference->step());

  // What a run store keeps: candidates that entered either archive, and the last state.
  auto first = make_scheduler(parse_experiment_config(c, "nslc"), 1);
  std::vector<std::vector<qdgen::archive::Candidate>> added;
  IterationRecord last;
  for (int i = 0; i < 12; ++i) {
    last = first->step();
    added.emplace_back();
    for (std::size_t k = 0; k < last.candidates.size(); ++k)
      if (last.add_results[k].status != AddStatus::kNotAdded ||
          last.result_add_results[k].status != AddStatus::kNotAdded)
        added.back().push_back(last.candidates[k]);
  }
  auto resumed = make_scheduler(parse_experiment_config(c, "nslc"), 2);
  resumed->restore(added, last.rng_state, json::parse(last.engine_state.dump()));
  std::vector<IterationRecord> tail;
  for (int i = 12; i < 30; ++i) tail.push_back(resumed->step());
  EXPECT_EQ(fingerprint(tail), fingerprint(std::vector<IterationRecord>(uninterrupted.begin() + 12,
                                                                        uninterrupted.end())));
  // Local competition did replace members along the way.
  int replaced = 0;
  for (const auto& r : uninterrupted)
    for (const auto& a : r.add_results) replaced += a.status == AddStatus::kImproveExisting;
  EXPECT_GT(replaced, 0);
}

TEST(NoveltySearch, ResultArchiveMistakesAreOneLineErrors) {
  json c = small_nslc_config();
  auto error_of = [](const json& config) -> std::string {
    try {
      make_scheduler(parse_experiment_config(config, "nslc.json"), 1);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(no error)";
  };
  c["result_archive"] = 3;
  EXPECT_NE(error_of(c).find(
                "nslc.json: result_archive: expected true, false or an archive object, got 3"),
            std::string::npos)
      << error_of(c);
  c["result_archive"] = {{"type", "grid"}, {"dims", json::array()}};
  EXPECT_NE(error_of(c).find("nslc.json: result_archive.dims"), std::string::npos) << error_of(c);
  c["result_archive"] = {{"type", "grid"},
                         {"dims", json::array({{{"range", {0, 1}}, {"cells", 4}}})}};
  EXPECT_NE(error_of(c).find("result archive has 1 measure dimensions, domain 'sphere' has 2"),
            std::string::npos)
      << error_of(c);
}
