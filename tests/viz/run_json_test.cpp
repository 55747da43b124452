// The JSON of a run against the store it describes: the report and the dashboard send it to
// the page, so its shapes are checked field by field on real stores of the three archive kinds.
#include "qdgen/viz/run_json.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "qdgen/store/run_reader.hpp"
#include "scratch_directory.hpp"
#include "viz_stores.hpp"

namespace {

using nlohmann::json;
using qdgen::store::RunReader;
using qdgen::viz::archive_layout;

TEST(RunJson, DescribesAGridRunWithItsEdgesNamesAndMetrics) {
  qdgen_test::ScratchDirectory scratch;
  const auto store = scratch.path() / "grid.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("grid-edges", qdgen_test::grid_archive()),
                         store);
  const RunReader reader(store);
  const auto layout = archive_layout(reader.info().config, store.string());
  const json run = qdgen::viz::run_json(reader, layout, "7", store.string());
  EXPECT_EQ(run["id"], "7");
  EXPECT_EQ(run["name"], "grid-edges");
  EXPECT_EQ(run["file"], store.string());
  EXPECT_EQ(run["status"], "finished");
  EXPECT_EQ(run["last_iteration"], 4);
  EXPECT_EQ(run["domain"], "sphere");
  EXPECT_EQ(run["candidate_count"], 40);
  EXPECT_EQ(run["archive"]["type"], "grid");
  EXPECT_EQ(run["archive"]["cells"], 24);
  EXPECT_EQ(run["archive"]["dims"][0]["edges"], json(qdgen_test::kSphereEdges));
  // Uniform edges as the grid computes them (lo + i * step), so cells match the archive's.
  const std::vector<double> uniform = {-10.24, -5.12, 0.0, 5.12, 10.24};
  ASSERT_EQ(run["archive"]["dims"][1]["edges"].size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(run["archive"]["dims"][1]["edges"][i].get<double>(), uniform[i], 1e-12);
  EXPECT_EQ(run["measure_names"],
            json({"sum of the first half of x", "sum of the second half of x"}));
  for (const char* key : {"qd_score", "coverage", "obj_max", "obj_mean"})
    EXPECT_NE(std::find(run["metrics_keys"].begin(), run["metrics_keys"].end(), key),
              run["metrics_keys"].end())
        << key << " in " << run["metrics_keys"];

  const json elites = qdgen::viz::elites_json(reader, layout);
  ASSERT_EQ(elites["count"], reader.elites().size());
  EXPECT_EQ(elites["iteration"], 4);
  double lo = 1e300, hi = -1e300;
  for (const auto& stored : reader.elites()) {
    lo = std::min(lo, stored.candidate.candidate.objective);
    hi = std::max(hi, stored.candidate.candidate.objective);
  }
  EXPECT_EQ(elites["objective_range"], json({lo, hi}));
  for (const json& elite : elites["elites"]) {
    const std::int64_t cell = elite["cell"];
    EXPECT_EQ(elite["index"], json({cell / 4, cell % 4}));
    EXPECT_EQ(elite["preview"].get<std::string>().front(), '[');
    EXPECT_TRUE(elite["truncated"].get<bool>() == false);  // 4 numbers: all shown
    const auto candidate = reader.candidate(elite["id"]);
    ASSERT_TRUE(candidate);
    EXPECT_EQ(elite["objective"], candidate->candidate.objective);
    EXPECT_EQ(elite["measures"][0], candidate->candidate.measures[0]);
  }

  const json iterations = qdgen::viz::iterations_json(reader);
  ASSERT_EQ(iterations.size(), 5u);
  EXPECT_EQ(iterations[2]["iteration"], 2);
  EXPECT_EQ(iterations[2]["num_candidates"], 8);
  EXPECT_TRUE(iterations[2]["metrics"].contains("qd_score"));
  EXPECT_GT(iterations[2]["evaluations_per_s"].get<double>(), 0.0);
  EXPECT_EQ(qdgen::viz::iterations_json(reader, 2).size(), 2u);
  EXPECT_EQ(qdgen::viz::iterations_json(reader, 4).size(), 0u);
}

TEST(RunJson, GivesACandidateWithItsLineage) {
  qdgen_test::ScratchDirectory scratch;
  const auto store = scratch.path() / "grid.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("grid-edges", qdgen_test::grid_archive()),
                         store);
  const RunReader reader(store);
  // The last candidate has parents (a Gaussian emitter mutates elites after the first batch).
  const std::int64_t id = reader.candidate_count() - 1;
  const auto candidate = qdgen::viz::candidate_json(reader, id);
  ASSERT_TRUE(candidate);
  const json& c = *candidate;
  EXPECT_EQ(c["id"], id);
  EXPECT_EQ(c["iteration"], 4);
  EXPECT_EQ(c["op"], "gaussian");
  ASSERT_EQ(c["solution"].size(), 4u);
  EXPECT_FALSE(c.contains("text"));
  EXPECT_EQ(c["parents"].size(), 1u);
  EXPECT_TRUE(c["outcome"].contains("status"));
  EXPECT_TRUE(c["result_outcome"].is_null());
  ASSERT_GE(c["lineage"].size(), 2u);
  EXPECT_EQ(c["lineage"][0]["id"], id);
  EXPECT_EQ(c["lineage"][0]["generation"], 0);
  EXPECT_EQ(c["lineage"][1]["id"], c["parents"][0]);
  EXPECT_EQ(c["lineage"][1]["generation"], 1);
  EXPECT_TRUE(c["lineage"][1]["stored"].get<bool>());
  EXPECT_FALSE(qdgen::viz::candidate_json(reader, 12345));
  EXPECT_FALSE(qdgen::viz::candidate_json(reader, id, false)->contains("lineage"));
}

TEST(RunJson, DescribesACvtRunWithCentroidsAndVoronoiCells) {
  qdgen_test::ScratchDirectory scratch;
  const auto store = scratch.path() / "cvt.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("cvt", qdgen_test::cvt_archive()), store);
  const RunReader reader(store);
  const auto layout = archive_layout(reader.info().config, store.string());
  ASSERT_EQ(layout.centroids.rows(), 12);
  ASSERT_EQ(layout.voronoi.size(), 12u);
  // The regions tile the box: their areas sum to its area, each holds its own centroid.
  double area = 0;
  for (std::size_t i = 0; i < layout.voronoi.size(); ++i) {
    const auto& polygon = layout.voronoi[i];
    ASSERT_GE(polygon.size(), 3u);
    for (std::size_t k = 0; k < polygon.size(); ++k) {
      const auto& a = polygon[k];
      const auto& b = polygon[(k + 1) % polygon.size()];
      area += (a[0] * b[1] - b[0] * a[1]) / 2;
    }
  }
  EXPECT_NEAR(area, 20.48 * 20.48, 1e-6);
  const json run = qdgen::viz::run_json(reader, layout, "0", store.string());
  EXPECT_EQ(run["archive"]["type"], "cvt");
  EXPECT_EQ(run["archive"]["centroids"].size(), 12u);
  EXPECT_EQ(run["archive"]["voronoi"].size(), 12u);
  const json elites = qdgen::viz::elites_json(reader, layout);
  ASSERT_GT(elites["count"].get<int>(), 0);
  for (const json& elite : elites["elites"]) EXPECT_EQ(elite["index"], json({elite["cell"]}));
}

TEST(RunJson, DescribesANoveltyRunWithTheMembersRange) {
  qdgen_test::ScratchDirectory scratch;
  const auto store = scratch.path() / "novelty.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("novelty", qdgen_test::novelty_archive()),
                         store);
  const RunReader reader(store);
  const auto layout = archive_layout(reader.info().config, store.string());
  const json run = qdgen::viz::run_json(reader, layout, "0", store.string());
  EXPECT_EQ(run["archive"]["type"], "novelty");
  EXPECT_EQ(run["archive"]["cells"], 0);
  EXPECT_EQ(run["archive"]["dims"].size(), 2u);
  const json elites = qdgen::viz::elites_json(reader, layout);
  ASSERT_GT(elites["count"].get<int>(), 1);
  for (const json& elite : elites["elites"])
    for (int d = 0; d < 2; ++d) {
      EXPECT_GE(elite["measures"][d].get<double>(), elites["measure_range"][d][0].get<double>());
      EXPECT_LE(elite["measures"][d].get<double>(), elites["measure_range"][d][1].get<double>());
    }
}

TEST(RunJson, NamesTextMeasuresFromTheirJudges) {
  const json config = {
      {"domain",
       {{"kind", "text"},
        {"measures",
         {{{"kind", "experts"}, {"experts", {"songs-poems", "computers"}}},
          {{"kind", "label"}, {"labels", {" horror", " romance"}}, {"instruction", "?"}}}}}}};
  EXPECT_EQ(qdgen::viz::measure_names(config, 2),
            (std::vector<std::string>{"songs-poems ↔ computers", "horror ↔ romance"}));
  EXPECT_EQ(qdgen::viz::measure_names(json::object(), 2),
            (std::vector<std::string>{"measure 1", "measure 2"}));
}

TEST(RunJson, PreviewsKeepWholeCharactersAndShowAVectorsFirstNumbers) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "é";
  bool truncated = false;
  const std::string preview = qdgen::viz::solution_preview(text, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(preview.size(), 2 * qdgen::viz::kPreviewCharacters);
  Eigen::VectorXd vector = Eigen::VectorXd::LinSpaced(10, 0, 9);
  EXPECT_EQ(qdgen::viz::solution_preview(vector, &truncated), "[0, 1, 2, 3, 4, 5, 6, 7, ...]");
  EXPECT_TRUE(truncated);
}

TEST(RunJson, RefusesAConfigWithoutAnArchiveNamingTheFile) {
  try {
    archive_layout(json{{"domain", json::object()}}, "x.sqlite");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "x.sqlite: config.archive: expected an archive object");
  }
}

}  // namespace
